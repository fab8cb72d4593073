package kernels

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LogSoftmax returns log_softmax of x (N, K) along its last axis, computed
// stably per row: y = x − m − log Σ exp(x − m), m the row's maximum.
//
// It replaces gorgonia's LogSoftMax, whose float kernels (gorgonia.org/tensor
// v0.9.24, softMaxLastDimF32/F64) start every row's maximum at the first
// element of the whole tensor, x[0], instead of the row's own first element:
// a row whose values lie ~90 (float32) below x[0] underflows Σ exp to 0, and
// the loss becomes +Inf and then NaN. Low-bit QAT makes such rows: with
// 2-bit logits the logit grid steps grow to tens, and the first batch of a
// LeNet-5 w2a2 run went NaN within ~150 steps for this reason alone. It also
// runs every row in the calling goroutine (gorgonia starts one per row).
func LogSoftmax(x *G.Node) (*G.Node, error) {
	if x.Dims() != 2 {
		return nil, fmt.Errorf("%w: LogSoftmax of a %d-d tensor, want (N, K)", ErrShape, x.Dims())
	}
	return G.ApplyOp(&logSoftmaxOp{opBase: opBase{name: "kernels.LogSoftmax"}}, x)
}

type logSoftmaxOp struct {
	opBase
	out *tensor.Dense
}

func (o *logSoftmaxOp) Arity() int            { return 1 }
func (o *logSoftmaxOp) Type() hm.Type         { return opType(2, 2) }
func (o *logSoftmaxOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *logSoftmaxOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *logSoftmaxOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 1)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (o *logSoftmaxOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 1)
	if err != nil {
		return nil, err
	}
	xs := in[0].Shape()
	if len(xs) != 2 || xs[1] == 0 {
		return nil, fmt.Errorf("%w: %s of shape %v", ErrShape, o.name, xs)
	}
	out := reuseOut(&o.out, dt, xs...)
	if dt == tensor.Float32 {
		logSoftmaxRows(out.Data().([]float32), in[0].Data().([]float32), xs[1])
	} else {
		logSoftmaxRows(out.Data().([]float64), in[0].Data().([]float64), xs[1])
	}
	return out, nil
}

// logSoftmaxRows writes log_softmax of each row of k values (sums in float64).
func logSoftmaxRows[T float](y, x []T, k int) {
	for r := 0; r+k <= len(x); r += k {
		row := x[r : r+k]
		m := row[0]
		for _, v := range row[1:] {
			m = max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - m))
		}
		ls := T(math.Log(s))
		for i, v := range row {
			y[r+i] = v - m - ls
		}
	}
}

func (o *logSoftmaxOp) DiffWRT(int) []bool { return []bool{true} }

func (o *logSoftmaxOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&logSoftmaxGradOp{opBase: opBase{name: "kernels.LogSoftmaxGrad"}}, out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// logSoftmaxGradOp: (y, dy) → dx = dy − exp(y)·Σ_row dy.
type logSoftmaxGradOp struct {
	opBase
	noDiff
	out *tensor.Dense
}

func (o *logSoftmaxGradOp) Arity() int            { return 2 }
func (o *logSoftmaxGradOp) Type() hm.Type         { return opType(2, 2, 2) }
func (o *logSoftmaxGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *logSoftmaxGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *logSoftmaxGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 2)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (o *logSoftmaxGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	ys := in[0].Shape()
	if len(ys) != 2 || !ys.Eq(in[1].Shape()) {
		return nil, fmt.Errorf("%w: %s: y %v, dy %v", ErrShape, o.name, ys, in[1].Shape())
	}
	out := reuseOut(&o.out, dt, ys...)
	if dt == tensor.Float32 {
		logSoftmaxBackward(out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32), ys[1])
	} else {
		logSoftmaxBackward(out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64), ys[1])
	}
	return out, nil
}

func logSoftmaxBackward[T float](dx, y, dy []T, k int) {
	for r := 0; r+k <= len(y); r += k {
		var s float64
		for _, g := range dy[r : r+k] {
			s += float64(g)
		}
		for i := r; i < r+k; i++ {
			dx[i] = dy[i] - T(math.Exp(float64(y[i]))*s)
		}
	}
}
