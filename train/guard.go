package train

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/qatgo/qatgo/internal/minmax"
)

// NonFiniteError reports a training step whose loss, or one of whose
// gradients or parameters, is NaN or ±Inf. It names the first offending
// quantity in model order ("fc1.act.scale gradient", "conv2.weight value",
// or "loss" when every parameter and gradient is finite, i.e. an activation
// overflowed), and where the last good checkpoint is: Fit returns before any
// update with the bad values, so the checkpoint of the last finished epoch
// is left as it was. errors.Is(err, ErrDiverged) holds.
type NonFiniteError struct {
	Epoch, Step int    // 1-based
	Quantity    string // "<tensor> gradient", "<tensor> value" or "loss"
	Count, Of   int    // non-finite values among Of (1 for the loss)
	Loss        float32
	Checkpoint  string // the last good checkpoint, "" when none was written
}

func (e *NonFiniteError) Error() string {
	s := fmt.Sprintf("train: epoch %d, step %d: %s is not finite (%d of %d values NaN or ±Inf; loss %g)",
		e.Epoch, e.Step, e.Quantity, e.Count, e.Of, e.Loss)
	if e.Checkpoint != "" {
		s += "; the last good checkpoint is kept in " + e.Checkpoint
	} else {
		s += "; no checkpoint was written before"
	}
	return s + "; lower the learning rate or raise the bit widths"
}

func (e *NonFiniteError) Unwrap() error { return ErrDiverged }

// nonFinite counts NaN and ±Inf values (x−x is 0 only for finite x). The
// vector scan answers the common case, all finite, at a fraction of the
// loop's time (it runs on every parameter and gradient every step).
func nonFinite(v []float32) int {
	if _, _, ok := minmax.Fast(v); ok || len(v) == 0 {
		return 0
	}
	n := 0
	for _, x := range v {
		if x-x != 0 {
			n++
		}
	}
	return n
}

// checkFinite returns a *NonFiniteError for the first non-finite gradient,
// then parameter value, then the loss, or nil when all are finite. Gradients
// come first: they are what would poison the parameters on the next update.
func checkFinite(ts []Tensor, loss float32, epoch, step int, dir string, ckEpoch int) error {
	e := &NonFiniteError{Epoch: epoch, Step: step, Loss: loss}
	switch {
	case findNonFinite(ts, e, func(t Tensor) []float32 { return t.Grad }, "gradient"):
	case findNonFinite(ts, e, func(t Tensor) []float32 { return t.Value }, "value"):
	case math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0):
		e.Quantity, e.Count, e.Of = "loss", 1, 1
	default:
		return nil
	}
	if dir != "" && ckEpoch > 0 {
		e.Checkpoint = fmt.Sprintf("%s (epoch %d)", filepath.Join(dir, CheckpointName), ckEpoch)
	}
	return e
}

func findNonFinite(ts []Tensor, e *NonFiniteError, get func(Tensor) []float32, what string) bool {
	for _, t := range ts {
		if n := nonFinite(get(t)); n > 0 {
			e.Quantity, e.Count, e.Of = t.Name+" "+what, n, len(get(t))
			return true
		}
	}
	return false
}
