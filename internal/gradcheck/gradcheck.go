// Package gradcheck compares analytic gradients with central differences.
//
// The function under test is any func() (float64, error) that reads its
// parameters from float64 slices the checker perturbs in place (for a
// gorgonia graph: the backing slices of the input tensors, and a closure that
// runs the tape machine and returns the loss; see Graph).
//
// Functions with kinks or jumps (ReLU, clipping, rounding) have no
// derivative there. For each element the checker also takes the two one-sided
// differences; when they disagree by more than the tolerance the function is
// not locally smooth at that point and the element is counted as skipped
// instead of compared. Tests should assert that few elements were skipped
// (Result.Skipped), so that a broken forward pass cannot hide behind it.
package gradcheck

import (
	"errors"
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is one slice of parameters and its analytic gradient.
type Param struct {
	Name  string
	Value []float64 // perturbed in place, restored afterwards
	Grad  []float64 // analytic gradient, len(Value)
}

// Options set the step and the tolerances; zero values take the defaults.
type Options struct {
	Step   float64 // central-difference step h; default 1e-6
	AbsTol float64 // default 1e-6
	RelTol float64 // default 1e-5
	// MaxPerParam limits how many elements of each Param are checked, spread
	// evenly over it (big layers); 0 checks all.
	MaxPerParam int
}

func (o Options) withDefaults() Options {
	if o.Step == 0 {
		o.Step = 1e-6
	}
	if o.AbsTol == 0 {
		o.AbsTol = 1e-6
	}
	if o.RelTol == 0 {
		o.RelTol = 1e-5
	}
	return o
}

// Mismatch is one element whose analytic and numeric gradients differ.
type Mismatch struct {
	Param             string
	Index             int
	Analytic, Numeric float64
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s[%d]: analytic %.9g, numeric %.9g", m.Param, m.Index, m.Analytic, m.Numeric)
}

// Result summarises a check.
type Result struct {
	Checked    int        // elements compared
	Skipped    int        // elements where the function is not locally smooth
	MaxAbsErr  float64    // over the compared elements
	Mismatches []Mismatch // compared elements outside tolerance
}

// OK reports whether every compared element was within tolerance.
func (r Result) OK() bool { return len(r.Mismatches) == 0 }

func (r Result) String() string {
	s := fmt.Sprintf("checked %d, skipped %d (not smooth), max abs err %.3g", r.Checked, r.Skipped, r.MaxAbsErr)
	for i, m := range r.Mismatches {
		if i == 10 {
			s += fmt.Sprintf("\n  ... %d more", len(r.Mismatches)-10)
			break
		}
		s += "\n  " + m.String()
	}
	return s
}

func near(a, b float64, o Options) bool {
	return math.Abs(a-b) <= o.AbsTol+o.RelTol*math.Max(math.Abs(a), math.Abs(b))
}

// Check perturbs every element of every param by ±Step, evaluates f and
// compares (f(+h) - f(-h)) / 2h with the analytic gradient where the
// one-sided differences agree.
func Check(f func() (float64, error), params []Param, o Options) (Result, error) {
	o = o.withDefaults()
	var r Result
	f0, err := f()
	if err != nil {
		return r, err
	}
	for _, p := range params {
		if len(p.Grad) != len(p.Value) {
			return r, fmt.Errorf("gradcheck: %s has %d values but %d gradients", p.Name, len(p.Value), len(p.Grad))
		}
		stride := 1
		if o.MaxPerParam > 0 && len(p.Value) > o.MaxPerParam {
			stride = (len(p.Value) + o.MaxPerParam - 1) / o.MaxPerParam
		}
		for i := 0; i < len(p.Value); i += stride {
			v := p.Value[i]
			p.Value[i] = v + o.Step
			fp, err := f()
			if err != nil {
				p.Value[i] = v
				return r, err
			}
			p.Value[i] = v - o.Step
			fm, err := f()
			p.Value[i] = v
			if err != nil {
				return r, err
			}
			right, left := (fp-f0)/o.Step, (f0-fm)/o.Step
			// One-sided differences carry an O(h) curvature error, hence the
			// looser test; a kink or jump shows up as an O(1) disagreement.
			if !near(left, right, Options{AbsTol: 100 * o.AbsTol, RelTol: 100 * o.RelTol}) {
				r.Skipped++
				continue
			}
			num := (fp - fm) / (2 * o.Step)
			r.Checked++
			r.MaxAbsErr = math.Max(r.MaxAbsErr, math.Abs(num-p.Grad[i]))
			if !near(p.Grad[i], num, o) {
				r.Mismatches = append(r.Mismatches, Mismatch{p.Name, i, p.Grad[i], num})
			}
		}
	}
	return r, nil
}

// Graph checks d loss / d wrt for a float64 gorgonia graph. loss must be a
// scalar node; wrt are float64 tensor input nodes with bound values. Graph
// adds the gradient nodes to loss's graph (so build one graph per check),
// runs a tape machine once for the analytic gradient and then once per
// perturbation. Stateful ops (observers) must be frozen by the caller, or
// the perturbed runs see other parameters.
func Graph(loss *G.Node, wrt G.Nodes, o Options) (Result, error) {
	if loss == nil || len(wrt) == 0 {
		return Result{}, errors.New("gradcheck: need a loss and at least one node")
	}
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		return Result{}, fmt.Errorf("gradcheck: symbolic gradient: %w", err)
	}
	m := G.NewTapeMachine(loss.Graph())
	defer m.Close()
	run := func() (float64, error) {
		m.Reset()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		return scalar(loss.Value())
	}
	if _, err := run(); err != nil {
		return Result{}, err
	}
	params := make([]Param, len(wrt))
	for i, n := range wrt {
		v, ok := n.Value().(*tensor.Dense)
		if !ok {
			return Result{}, fmt.Errorf("gradcheck: %v has no dense value", n)
		}
		vd, ok := v.Data().([]float64)
		if !ok {
			return Result{}, fmt.Errorf("gradcheck: %v is not float64", n)
		}
		g, err := floats(grads[i].Value())
		if err != nil {
			return Result{}, fmt.Errorf("gradcheck: gradient of %v: %w", n, err)
		}
		params[i] = Param{Name: n.Name(), Value: vd, Grad: append([]float64(nil), g...)}
	}
	return Check(run, params, o)
}

func scalar(v G.Value) (float64, error) {
	switch x := v.(type) {
	case *G.F64:
		return float64(*x), nil
	case *tensor.Dense:
		if d, ok := x.Data().(float64); ok {
			return d, nil
		}
		if d, ok := x.Data().([]float64); ok && len(d) == 1 {
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("gradcheck: loss value %T is not a float64 scalar", v)
}

func floats(v G.Value) ([]float64, error) {
	if d, ok := v.(*tensor.Dense); ok {
		if f, ok := d.Data().([]float64); ok {
			return f, nil
		}
	}
	if f, ok := v.(*G.F64); ok {
		return []float64{float64(*f)}, nil
	}
	return nil, fmt.Errorf("value %T is not float64", v)
}
