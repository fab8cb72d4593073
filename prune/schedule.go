package prune

import (
	"errors"
	"fmt"
	"math"
)

// ErrSchedule reports an invalid schedule.
var ErrSchedule = errors.New("prune: invalid schedule")

// Schedule gives the target sparsity at a training step.
type Schedule interface {
	At(step int) float64
}

// Cubic is the gradual pruning ramp of Zhu & Gupta (2017):
//
//	s_t = Final + (Initial - Final)·(1 - (t - Begin)/(End - Begin))^3
//
// for Begin <= t <= End, Initial before Begin and Final after End. With
// Initial = 0 and Begin = 0 this is s_t = Final·(1 - (1 - t/End)^3): it prunes
// fast while many redundant weights remain and slowly near the end.
type Cubic struct {
	Initial, Final float64
	Begin, End     int
}

// Validate checks the sparsities and that End > Begin >= 0.
func (c Cubic) Validate() error {
	if !(c.Initial >= 0 && c.Initial <= 1 && c.Final >= 0 && c.Final <= 1) {
		return fmt.Errorf("%w: sparsities %v, %v outside [0, 1]", ErrSchedule, c.Initial, c.Final)
	}
	if c.Begin < 0 || c.End <= c.Begin {
		return fmt.Errorf("%w: need 0 <= Begin < End, got %d, %d", ErrSchedule, c.Begin, c.End)
	}
	return nil
}

// At returns the sparsity at step t.
func (c Cubic) At(t int) float64 {
	switch {
	case t <= c.Begin:
		return c.Initial
	case t >= c.End:
		return c.Final
	}
	r := 1 - float64(t-c.Begin)/float64(c.End-c.Begin)
	return c.Final + (c.Initial-c.Final)*math.Pow(r, 3)
}

// Stage is one step of a staged schedule: from Step on, prune to Sparsity.
type Stage struct {
	Step     int
	Sparsity float64
}

// Stages is a piecewise-constant schedule (iterative pruning as in the paper:
// prune, retrain, prune more). At returns the sparsity of the last stage whose
// Step <= t, or 0 before the first.
type Stages []Stage

// Validate checks that steps increase strictly and sparsities lie in [0, 1]
// and do not decrease (pruned weights are not revived).
func (s Stages) Validate() error {
	for i, st := range s {
		if !(st.Sparsity >= 0 && st.Sparsity <= 1) {
			return fmt.Errorf("%w: stage %d sparsity %v outside [0, 1]", ErrSchedule, i, st.Sparsity)
		}
		if i > 0 && (st.Step <= s[i-1].Step || st.Sparsity < s[i-1].Sparsity) {
			return fmt.Errorf("%w: stage %d (step %d, %v) does not follow stage %d (step %d, %v)",
				ErrSchedule, i, st.Step, st.Sparsity, i-1, s[i-1].Step, s[i-1].Sparsity)
		}
	}
	return nil
}

// At returns the sparsity at step t.
func (s Stages) At(t int) float64 {
	v := 0.0
	for _, st := range s {
		if st.Step > t {
			break
		}
		v = st.Sparsity
	}
	return v
}
