package train

import (
	"context"
	"errors"
	"testing"
)

// AfterStep runs once per optimizer step, after the update, so a mask it
// applies holds at every forward pass; its error stops training.
func TestAfterStep(t *testing.T) {
	tr := newBlobs(320, 8, 4, 3)
	m := newSoftmax(32, 8, 4)
	calls := 0
	cfg := Config{Epochs: 2, LR: 0.1, EvalEvery: -1, AfterStep: func() error {
		calls++
		m.w[0] = 0 // "pruned": the optimizer moves it, the hook zeroes it again
		return nil
	}}
	if _, err := Fit(context.Background(), m, tr, nil, cfg); err != nil {
		t.Fatal(err)
	}
	if calls != 2*320/32 {
		t.Errorf("AfterStep ran %d times, want %d", calls, 2*320/32)
	}
	if m.w[0] != 0 {
		t.Errorf("w[0] = %v after training, want 0", m.w[0])
	}

	stop := errors.New("stop")
	calls = 0
	cfg.AfterStep = func() error { calls++; return stop }
	if _, err := Fit(context.Background(), m, tr, nil, cfg); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("got %v after %d calls, want the hook's error after 1", err, calls)
	}
}
