package train

import (
	"context"
	"testing"
)

// Every exported function and method of train, given zero values and nils,
// returns an error or a harmless value; none panics.
func TestZeroValuesDoNotPanic(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	ctx := context.Background()
	Fit(ctx, nil, nil, nil, Config{})
	Fit(ctx, NetModel(nil), nil, nil, Config{})
	Fit(ctx, NetModel(nil), newBlobs(4, 2, 2, 1), newBlobs(4, 2, 2, 1), Config{Epochs: 1})
	Evaluate(nil, nil)
	Calibrate(nil, nil, 0)
	Calibrate(NetModel(nil), newBlobs(4, 2, 2, 1), 0)
	Argmax(nil)
	Permutation(nil, 0, 0)
	DecodeCheckpoint(nil, "")
	ReadCheckpoint("")
	(&Checkpoint{}).Encode()
	NewOptimizer("", 0, 0)
	ParseSchedule("", 0)
	ParseSchedule("cosine", 0)
	for _, o := range []Optimizer{&SGD{}, &Adam{}} {
		o.Step(nil, 0)
		o.MarshalState()
		o.UnmarshalState(nil)
		o.UnmarshalState([]byte{1, 2, 3})
	}
	for _, s := range []Schedule{Constant{}, Cosine{}, StepDecay{}} {
		s.LR(0.1, 0, 0)
		s.LR(0.1, -1, 2)
	}
	p := NewProgress(nil)
	p.Start("", 0)
	p.Update(0, 0, 0)
	p.Done("")
	FreezeBNAt(0).OnEpochStart(0, NetModel(nil))
	FreezeObserversAt(0).OnEpochStart(0, NetModel(nil))
	_ = (&CheckpointError{}).Error()
}
