package gradcheck

import (
	"errors"
	"fmt"
	"math"
)

// Var is one perturbable input: its values (perturbed in place and restored)
// and the analytic gradient of the loss with respect to them.
type Var struct {
	Name string
	X    []float64
	Grad []float64
}

// Options tune the check; zero values give Eps 1e-6, Tol 1e-5, Floor 1e-8.
type Options struct {
	// Eps is the finite-difference step.
	Eps float64
	// Tol bounds |analytic − numeric| / max(|analytic|, |numeric|, Floor·…):
	// see Result.
	Tol float64
	// Floor is the magnitude below which errors are measured absolutely.
	Floor float64
	// MaxPerVar limits how many elements of each Var are checked (spread
	// evenly); 0 checks all.
	MaxPerVar int
}

// Result is the worst element found.
type Result struct {
	MaxErr            float64
	Var               string
	Index             int
	Analytic, Numeric float64
	Checked           int
}

func (r Result) String() string {
	return fmt.Sprintf("max rel. err %.3g at %s[%d] (analytic %.9g, numeric %.9g; %d elements checked)",
		r.MaxErr, r.Var, r.Index, r.Analytic, r.Numeric, r.Checked)
}

// ErrMismatch is returned (wrapped) when a gradient is off by more than Tol.
var ErrMismatch = errors.New("gradcheck: gradient mismatch")

// Check perturbs each element of each Var by ±Eps, evaluates loss, and
// compares (L(x+ε) − L(x−ε)) / 2ε with the analytic gradient. The relative
// error of one element is |a − n| / max(|a|, |n|, Floor). loss must be a
// deterministic function of the Vars' current values.
func Check(loss func() (float64, error), vars []Var, o Options) (Result, error) {
	if o.Eps == 0 {
		o.Eps = 1e-6
	}
	if o.Tol == 0 {
		o.Tol = 1e-5
	}
	if o.Floor == 0 {
		o.Floor = 1e-8
	}
	var r Result
	for _, v := range vars {
		if len(v.X) != len(v.Grad) {
			return r, fmt.Errorf("gradcheck: %s has %d values but %d gradients", v.Name, len(v.X), len(v.Grad))
		}
		step := 1
		if o.MaxPerVar > 0 && len(v.X) > o.MaxPerVar {
			step = (len(v.X) + o.MaxPerVar - 1) / o.MaxPerVar
		}
		for i := 0; i < len(v.X); i += step {
			old := v.X[i]
			v.X[i] = old + o.Eps
			lp, err := loss()
			if err != nil {
				v.X[i] = old
				return r, err
			}
			v.X[i] = old - o.Eps
			lm, err := loss()
			v.X[i] = old
			if err != nil {
				return r, err
			}
			num := (lp - lm) / (2 * o.Eps)
			a := v.Grad[i]
			e := math.Abs(a-num) / math.Max(math.Max(math.Abs(a), math.Abs(num)), o.Floor)
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			r.Checked++
			if e > r.MaxErr || r.Var == "" {
				r.MaxErr, r.Var, r.Index, r.Analytic, r.Numeric = e, v.Name, i, a, num
			}
		}
	}
	if r.MaxErr > o.Tol {
		return r, fmt.Errorf("%w: %v", ErrMismatch, r)
	}
	return r, nil
}
