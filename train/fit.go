package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/qatgo/qatgo/datasets"
)

// Model is what the loop trains; package nn's Net satisfies it through NetModel.
type Model interface {
	// Batch is the fixed batch size the model was compiled for.
	Batch() int
	// Step runs forward and backward on one full batch and leaves gradients
	// in the tensors Trainable returns.
	Step(x []float32, labels []int) (loss float32, correct int, err error)
	// Predict writes count·classes logits for count ≤ Batch() inputs (eval
	// mode); x and logits hold exactly count samples.
	Predict(x []float32, count int, logits []float32) error
	// Calibrate runs count inputs forward with observers on and no gradients.
	Calibrate(x []float32, count int) error
	Trainable() []Tensor
	SetObserving(on bool)
	FreezeBN(frozen bool)
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
}

// Dataset is a labelled set of equally sized float32 samples.
type Dataset interface {
	Len() int
	SampleSize() int
	NumClasses() int
	// Fill copies the samples idx into x (len(idx)·SampleSize()) and their labels.
	Fill(x []float32, labels []int, idx []int)
}

// Callback hooks into the loop. OnEpochStart runs before epoch e (0-based),
// also for the first epoch of a resumed run, so a callback should set state
// from e alone (FreezeObserversAt does).
type Callback interface {
	OnEpochStart(e int, m Model) error
}

// CallbackFunc adapts a function to Callback.
type CallbackFunc func(e int, m Model) error

// OnEpochStart implements Callback.
func (f CallbackFunc) OnEpochStart(e int, m Model) error { return f(e, m) }

// FreezeObserversAt stops range observation from epoch e on (PyTorch's
// disable_observer), so late QAT epochs train against fixed grids.
func FreezeObserversAt(e int) Callback {
	return CallbackFunc(func(ep int, m Model) error { m.SetObserving(ep < e); return nil })
}

// FreezeBNAt switches BatchNorm to its running statistics from epoch e on
// (PyTorch's freeze_bn_stats).
func FreezeBNAt(e int) Callback {
	return CallbackFunc(func(ep int, m Model) error { m.FreezeBN(ep >= e); return nil })
}

// Config configures Fit. Zero values take the documented defaults.
type Config struct {
	Epochs    int
	LR        float32   // default 0.01
	Optimizer Optimizer // default SGD with momentum 0.9
	Schedule  Schedule  // default Constant
	Seed      uint64    // shuffling order: epoch e uses a permutation derived from (Seed, e)
	// Dir, when set, receives checkpoint.qat after every epoch (atomically).
	Dir string
	// Resume continues from Dir's checkpoint when there is one.
	Resume bool
	// EvalEvery evaluates on the test set every that many epochs (default 1; <0 never).
	EvalEvery int
	Callbacks []Callback
	// Progress receives progress output; nil prints nothing.
	Progress io.Writer
	// MaxStepsPerEpoch limits an epoch to that many batches (0: all), for smoke runs.
	MaxStepsPerEpoch int
	// AfterStep, when set, runs after every optimizer step, e.g. to re-apply
	// pruning masks (nn.Net.ApplyMasks) so pruned weights stay exactly zero;
	// an error stops training.
	AfterStep func() error
}

// EpochStats are the numbers of one finished epoch.
type EpochStats struct {
	Epoch        int     `json:"epoch"`
	LR           float64 `json:"lr"`
	TrainLoss    float64 `json:"train_loss"`
	TrainAcc     float64 `json:"train_accuracy"`
	TestAcc      float64 `json:"test_accuracy"` // -1 when not evaluated
	Images       int     `json:"images"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"train_images_per_sec"`
}

// Result summarises a run.
type Result struct {
	History []EpochStats `json:"history"`
	// ResumedFrom is the number of epochs loaded from a checkpoint.
	ResumedFrom  int     `json:"resumed_from"`
	TestAcc      float64 `json:"test_accuracy"` // the last evaluation; -1 when none
	ImagesPerSec float64 `json:"train_images_per_sec"`
}

// ErrDiverged is returned (wrapped in a *NonFiniteError) when the loss, a
// gradient or a parameter becomes NaN or infinite.
var ErrDiverged = errors.New("train: loss is not finite (diverged); lower the learning rate")

// Fit trains m on trainSet for cfg.Epochs epochs, evaluating on testSet (may
// be nil). It stops early, returning ctx.Err(), when ctx is cancelled; the
// last finished epoch's checkpoint is kept.
func Fit(ctx context.Context, m Model, trainSet, testSet Dataset, cfg Config) (*Result, error) {
	if cfg.Epochs < 0 {
		return nil, fmt.Errorf("train: epochs %d < 0", cfg.Epochs)
	}
	if cfg.LR == 0 {
		cfg.LR = 0.01
	}
	if cfg.Optimizer == nil {
		cfg.Optimizer = &SGD{Momentum: 0.9}
	}
	if cfg.Schedule == nil {
		cfg.Schedule = Constant{}
	}
	if cfg.EvalEvery == 0 {
		cfg.EvalEvery = 1
	}
	if m == nil || trainSet == nil {
		return nil, errors.New("train: Fit needs a model and a training set")
	}
	bs := m.Batch()
	if bs < 1 {
		return nil, fmt.Errorf("train: model batch size %d", bs)
	}
	if trainSet.Len() < bs {
		return nil, fmt.Errorf("train: training set has %d samples, fewer than one batch of %d", trainSet.Len(), bs)
	}
	res := &Result{TestAcc: -1}
	start := 0
	if cfg.Resume && cfg.Dir != "" {
		ck, err := ReadCheckpoint(filepath.Join(cfg.Dir, CheckpointName))
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			if err := m.UnmarshalState(ck.Model); err != nil {
				return nil, fmt.Errorf("train: resume from %s: %w", cfg.Dir, err)
			}
			if err := cfg.Optimizer.UnmarshalState(ck.Optimizer); err != nil {
				return nil, fmt.Errorf("train: resume from %s: %w", cfg.Dir, err)
			}
			if r, ok := m.(RNGState); ok && ck.RNG != nil {
				if err := r.UnmarshalRNG(ck.RNG); err != nil {
					return nil, fmt.Errorf("train: resume from %s: %w", cfg.Dir, err)
				}
			}
			start, res.History, res.ResumedFrom = ck.Epoch, ck.History, ck.Epoch
			if n := len(ck.History); n > 0 {
				res.TestAcc = ck.History[n-1].TestAcc
			}
		}
	}
	prog := NewProgress(cfg.Progress)
	x := make([]float32, bs*trainSet.SampleSize())
	labels := make([]int, bs)
	steps := trainSet.Len() / bs // the last partial batch is dropped, as with drop_last
	if cfg.MaxStepsPerEpoch > 0 && steps > cfg.MaxStepsPerEpoch {
		steps = cfg.MaxStepsPerEpoch
	}
	perm := make([]int, trainSet.Len())
	ts := m.Trainable()
	ckEpoch := start // the epoch of the checkpoint in cfg.Dir, 0 for none
	for e := start; e < cfg.Epochs; e++ {
		for _, cb := range cfg.Callbacks {
			if err := cb.OnEpochStart(e, m); err != nil {
				return res, err
			}
		}
		Permutation(perm, cfg.Seed, e)
		prog.Start(fmt.Sprintf("epoch %d/%d", e+1, cfg.Epochs), steps*bs)
		var lossSum float64
		correct := 0
		t0 := time.Now()
		var lr float32
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			trainSet.Fill(x, labels, perm[s*bs:(s+1)*bs])
			loss, c, err := m.Step(x, labels)
			// The guard runs before the error check: a model may report
			// a non-finite loss as an error, and the guard names the cause.
			if gerr := checkFinite(ts, loss, e+1, s+1, cfg.Dir, ckEpoch); gerr != nil {
				return res, gerr
			}
			if err != nil {
				return res, err
			}
			lr = cfg.Schedule.LR(cfg.LR, e, float64(s)/float64(steps))
			if err := cfg.Optimizer.Step(ts, lr); err != nil {
				return res, err
			}
			if cfg.AfterStep != nil {
				if err := cfg.AfterStep(); err != nil {
					return res, fmt.Errorf("train: after step %d of epoch %d: %w", s+1, e+1, err)
				}
			}
			lossSum += float64(loss)
			correct += c
			prog.Update((s+1)*bs, lossSum/float64(s+1), float64(correct)/float64((s+1)*bs))
		}
		sec := time.Since(t0).Seconds()
		st := EpochStats{Epoch: e + 1, LR: float64(lr), TrainLoss: lossSum / float64(steps),
			TrainAcc: float64(correct) / float64(steps*bs), Images: steps * bs, Seconds: sec,
			ImagesPerSec: float64(steps*bs) / sec, TestAcc: -1}
		if testSet != nil && cfg.EvalEvery > 0 && ((e+1)%cfg.EvalEvery == 0 || e+1 == cfg.Epochs) {
			acc, err := Evaluate(m, testSet)
			if err != nil {
				return res, err
			}
			st.TestAcc = acc
			res.TestAcc = acc
		}
		res.History = append(res.History, st)
		summary := fmt.Sprintf("epoch %d/%d: loss %.4f train acc %.2f%% %.0f img/s", e+1, cfg.Epochs, st.TrainLoss, 100*st.TrainAcc, st.ImagesPerSec)
		if st.TestAcc >= 0 {
			summary += fmt.Sprintf(" test acc %.2f%%", 100*st.TestAcc)
		}
		prog.Done(summary)
		if cfg.Dir != "" {
			if err := saveCheckpoint(cfg.Dir, m, cfg.Optimizer, e+1, res.History); err != nil {
				return res, err
			}
			ckEpoch = e + 1
		}
	}
	var imgs, secs float64
	for _, h := range res.History[res.ResumedFrom:] {
		imgs += float64(h.Images)
		secs += h.Seconds
	}
	if secs > 0 {
		res.ImagesPerSec = imgs / secs
	}
	return res, nil
}

// Evaluate returns m's top-1 accuracy on the whole of set.
func Evaluate(m Model, set Dataset) (float64, error) {
	acc, _, err := EvaluateLoss(m, set)
	return acc, err
}

// EvaluateLoss returns m's top-1 accuracy on the whole of set and its mean
// cross-entropy (natural log of the softmax of the logits, in float64).
// The loss resolves changes far below one sample's worth of accuracy,
// which is what makes it a useful sensitivity measure.
func EvaluateLoss(m Model, set Dataset) (acc, loss float64, err error) {
	if m == nil || set == nil || m.Batch() < 1 || set.Len() == 0 {
		return 0, 0, errors.New("train: Evaluate needs a model with a batch size ≥ 1 and a non-empty set")
	}
	bs, k := m.Batch(), set.NumClasses()
	x := make([]float32, bs*set.SampleSize())
	labels := make([]int, bs)
	logits := make([]float32, bs*k)
	idx := make([]int, bs)
	correct := 0
	var sum float64
	for i := 0; i < set.Len(); i += bs {
		n := min(bs, set.Len()-i)
		for j := 0; j < n; j++ {
			idx[j] = i + j
		}
		set.Fill(x, labels, idx[:n])
		if err := m.Predict(x[:n*set.SampleSize()], n, logits[:n*k]); err != nil {
			return 0, 0, err
		}
		for j := 0; j < n; j++ {
			row := logits[j*k : (j+1)*k]
			if Argmax(row) == labels[j] {
				correct++
			}
			sum += crossEntropy(row, labels[j])
		}
	}
	n := float64(set.Len())
	return float64(correct) / n, sum / n, nil
}

// crossEntropy is −log softmax(z)[label], computed as logsumexp(z) − z[label]
// with the maximum subtracted so that large logits do not overflow.
func crossEntropy(z []float32, label int) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, float64(v))
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s) - float64(z[label])
}

// Calibrate runs up to n samples of set through m with observers on and no
// gradient updates: post-training quantization.
func Calibrate(m Model, set Dataset, n int) error {
	if m == nil || set == nil || m.Batch() < 1 {
		return errors.New("train: Calibrate needs a model with a batch size ≥ 1 and a set")
	}
	if n <= 0 || n > set.Len() {
		n = set.Len()
	}
	bs := m.Batch()
	x := make([]float32, bs*set.SampleSize())
	labels := make([]int, bs)
	idx := make([]int, bs)
	m.SetObserving(true)
	for i := 0; i < n; i += bs {
		c := min(bs, n-i)
		for j := 0; j < c; j++ {
			idx[j] = i + j
		}
		set.Fill(x, labels, idx[:c])
		if err := m.Calibrate(x[:c*set.SampleSize()], c); err != nil {
			return err
		}
	}
	m.SetObserving(false)
	return nil
}

// Argmax returns the index of the largest value (the first on ties).
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Permutation fills perm with a permutation of 0..len-1 that depends only on
// (seed, epoch), so a resumed run shuffles epoch e exactly as an
// uninterrupted one.
func Permutation(perm []int, seed uint64, epoch int) {
	r := rand.New(rand.NewPCG(seed, uint64(epoch)+0x9e3779b97f4a7c15))
	for i := range perm {
		perm[i] = i
	}
	r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
}

// FromDataset adapts a datasets.Dataset to the loop's Dataset.
func FromDataset(d *datasets.Dataset) Dataset { return dsAdapter{d} }

type dsAdapter struct{ d *datasets.Dataset }

func (a dsAdapter) Len() int        { return a.d.Len() }
func (a dsAdapter) SampleSize() int { return a.d.SampleSize() }
func (a dsAdapter) NumClasses() int { return a.d.NumClasses }
func (a dsAdapter) Fill(x []float32, labels []int, idx []int) {
	n := a.d.SampleSize()
	for i, j := range idx {
		copy(x[i*n:(i+1)*n], a.d.X[j*n:(j+1)*n])
		labels[i] = int(a.d.Labels[j])
	}
}
