package fakequant

import (
	"bytes"
	"fmt"
	"hash"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/qatgo/qatgo/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A weight scaled per output channel, then fake-quantized, in one op.
//
// A ConvBn trained with batch-norm folding quantizes w·f, f = γ/√(σ²+ε)
// per output channel (PyTorch's intrinsic QAT ConvBn2d). As graph ops that
// is a scaling, the quantizer and, backward, the quantizer's mask, the
// scaling of dy and the factor's gradient Σ dy·w: five small ops per
// layer, each a pass over the weights on one core. ApplyScaled runs them as
// two — the forward and one backward that writes both gradients — with the
// same arithmetic in the same order, so the same bits (nn's tests compare
// both), channels split between the cores on large layers.

// CanScale reports whether ApplyScaled takes q: an Affine quantizer.
func CanScale(q Quantizer) bool {
	_, ok := q.(*Affine)
	return ok
}

// ApplyScaled is q.Apply(nil, x·f) with x (C, …) scaled per channel of its
// first axis by f (C): the same values and gradients, in one op (and one
// for both gradients). x and f share a dtype, float32 or float64. It fails
// unless CanScale(q).
func ApplyScaled(q Quantizer, x, f *G.Node) (*G.Node, error) {
	a, ok := q.(*Affine)
	if !ok {
		return nil, fmt.Errorf("fakequant: ApplyScaled: %v is not an affine quantizer", q)
	}
	if err := checkNode(x, a.obs.Scheme()); err != nil {
		return nil, err
	}
	if f == nil || f.Dims() != 1 || f.Shape()[0] != x.Shape()[0] {
		var fs tensor.Shape
		if f != nil {
			fs = f.Shape()
		}
		return nil, fmt.Errorf("%w: ApplyScaled to %v %v: factor %v, want (%d)", ErrShape, x.Name(), x.Shape(), fs, x.Shape()[0])
	}
	if f.Dtype() != x.Dtype() {
		return nil, fmt.Errorf("fakequant: ApplyScaled to %v: factor is %v, x %v", x.Name(), f.Dtype(), x.Dtype())
	}
	return G.ApplyOp(&scaledOp{ste: steOp{q: a, dims: x.Dims()}}, x, f)
}

// scaledOp: (x, f) → fq(x·f), f per channel of x's first axis.
type scaledOp struct {
	ste   steOp // the quantizer's op, run on xf
	xf    *tensor.Dense
	gen   int // forward runs so far
	grads scaledGrads
}

// scaledGrads are the gradients of the last backward: dx, df, and the
// forward run they belong to.
type scaledGrads struct {
	dx, df *tensor.Dense
	of     int
}

func (op *scaledOp) Arity() int { return 2 }
func (op *scaledOp) Type() hm.Type {
	t := G.TensorType{Dims: op.ste.dims, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, G.TensorType{Dims: 1, Of: hm.TypeVariable('a')}, t)
}
func (op *scaledOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in, 0) }
func (op *scaledOp) ReturnsPtr() bool                                  { return false }
func (op *scaledOp) CallsExtern() bool                                 { return false }
func (op *scaledOp) OverwritesInput() int                              { return -1 }
func (op *scaledOp) WriteHash(h hash.Hash)                             { fmt.Fprintf(h, "fakequant.scaled:%p", op) }
func (op *scaledOp) Hashcode() uint32                                  { return hashOf(op) }
func (op *scaledOp) String() string                                    { return "FakeQuantScaled[" + op.ste.q.String() + "]" }
func (op *scaledOp) ReadsInputsOnlyWhileRunning()                      {}
func (op *scaledOp) DiffWRT(int) []bool                                { return []bool{true, true} }

func (op *scaledOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("fakequant: %v takes 2 inputs, got %d", op, len(in))
	}
	x, err := denseOf(in[0])
	if err != nil {
		return nil, err
	}
	f, err := denseOf(in[1])
	if err != nil {
		return nil, err
	}
	c := x.Shape()[0]
	if f.Shape().TotalSize() != c || f.Dtype() != x.Dtype() {
		return nil, fmt.Errorf("%w: %v: factor %v %v for x %v %v", ErrShape, op, f.Shape(), f.Dtype(), x.Shape(), x.Dtype())
	}
	op.xf = owned(&op.xf, x)
	rowLen := x.Shape().TotalSize() / c
	switch xd := x.Data().(type) {
	case []float32:
		scaleRows(op.xf.Data().([]float32), xd, f.Data().([]float32), rowLen)
	case []float64:
		scaleRows(op.xf.Data().([]float64), xd, f.Data().([]float64), rowLen)
	}
	out, err := op.ste.Do(op.xf)
	if err != nil {
		return nil, err
	}
	op.gen++
	return out, nil
}

// scaleRows sets dst = x·f[j] on row j of rowLen values (the bits of nn's
// scaling op), channels split between the workers on large layers.
func scaleRows[T float32 | float64](dst, x, f []T, rowLen int) {
	rows := func(j0, j1 int) {
		for j := j0; j < j1; j++ {
			fj := f[j]
			d, xs := dst[j*rowLen:(j+1)*rowLen], x[j*rowLen:(j+1)*rowLen]
			for i, v := range xs {
				d[i] = v * fj
			}
		}
	}
	if k := min(parallel.Chunks(len(x), scaledGrain), len(f)); k > 1 {
		parallel.For(len(f), k, 1, func(_, lo, hi int) { rows(lo, hi) })
		return
	}
	rows(0, len(f))
}

func (op *scaledOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&scaledGradOp{fwd: op, which: 0}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	df, err := G.ApplyOp(&scaledGradOp{fwd: op, which: 1}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, df}, nil
}

// scaledGradOp: (x, f, dy) → dx = m·dy·f (which 0) or df = Σ m·dy·x per
// channel (which 1), m the quantizer's mask; the first of the two to run
// after a forward computes both.
type scaledGradOp struct {
	fwd   *scaledOp
	which int
}

func (op *scaledGradOp) Arity() int { return 3 }
func (op *scaledGradOp) Type() hm.Type {
	t := G.TensorType{Dims: op.fwd.ste.dims, Of: hm.TypeVariable('a')}
	v := G.TensorType{Dims: 1, Of: hm.TypeVariable('a')}
	if op.which == 1 {
		return hm.NewFnType(t, v, t, v)
	}
	return hm.NewFnType(t, v, t, t)
}
func (op *scaledGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in, op.which)
}
func (op *scaledGradOp) ReturnsPtr() bool     { return false }
func (op *scaledGradOp) CallsExtern() bool    { return false }
func (op *scaledGradOp) OverwritesInput() int { return -1 }
func (op *scaledGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "fakequant.scaledGrad%d:%p", op.which, op)
}
func (op *scaledGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *scaledGradOp) String() string {
	return fmt.Sprintf("FakeQuantScaledGrad%d[%v]", op.which, op.fwd.ste.q)
}
func (op *scaledGradOp) ReadsInputsOnlyWhileRunning() {}
func (op *scaledGradOp) DiffWRT(int) []bool           { return []bool{false, false, false} }
func (op *scaledGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("fakequant: %v has no gradient", op)
}

// scaledGrain is about how many weights make a worker's share worth
// handing out (the factor's sums run one multiply-add per weight, one
// chain per channel).
const scaledGrain = 1 << 14

func (op *scaledGradOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("fakequant: %v takes 3 inputs, got %d", op, len(in))
	}
	fw := op.fwd
	var d [3]*tensor.Dense
	for i, v := range in {
		var err error
		if d[i], err = denseOf(v); err != nil {
			return nil, err
		}
	}
	x, f, g := d[0], d[1], d[2]
	n := x.Shape().TotalSize()
	if fw.gen == 0 || g.Shape().TotalSize() != n || len(fw.ste.mask) != n || f.Shape().TotalSize() != x.Shape()[0] || f.Dtype() != x.Dtype() || g.Dtype() != x.Dtype() {
		return nil, fmt.Errorf("%w: %v: x %v, factor %v, gradient %v (did the forward pass run?)", ErrShape, op, x.Shape(), f.Shape(), g.Shape())
	}
	gr := &fw.grads
	if gr.of != fw.gen {
		gr.dx = owned(&gr.dx, x)
		gr.df = owned(&gr.df, f)
		rowLen := n / x.Shape()[0]
		switch gd := g.Data().(type) {
		case []float32:
			scaledBackward(gr.dx.Data().([]float32), gr.df.Data().([]float32), gd, x.Data().([]float32), f.Data().([]float32), fw.ste.mask, rowLen)
		case []float64:
			scaledBackward(gr.dx.Data().([]float64), gr.df.Data().([]float64), gd, x.Data().([]float64), f.Data().([]float64), fw.ste.mask, rowLen)
		default:
			return nil, fmt.Errorf("fakequant: %v: unsupported dtype %v", op, g.Dtype())
		}
		gr.of = fw.gen
	}
	if op.which == 1 {
		return gr.df, nil
	}
	return gr.dx, nil
}

// scaledBackward sets, per channel j (row j of rowLen values), with dm =
// dy where mask and 0 elsewhere (the quantizer's gradient), dx = dm·f[j]
// and df[j] = Σ dm·x summed in row order: the bits of the quantizer's
// gradient op, nn's scaling op on it and that op's factor gradient. Four
// channels go side by side (four independent sums: the sums' latency, not
// their adds, bounded the loop), split between the workers on large
// layers.
func scaledBackward[T float32 | float64](dx, df, dy, x, f []T, mask []bool, rowLen int) {
	c := len(f)
	rows := func(j0, j1 int) {
		j := j0
		for ; j+4 <= j1; j += 4 {
			o, n := j*rowLen, rowLen
			m := mask[o : o+4*n]
			if allTrue(m) {
				// no weight clipped (min-max observers clip none): no mask
				scaledRows4(dx[o:o+4*n], dy[o:o+4*n], x[o:o+4*n], f[j:j+4], df[j:j+4], n)
				continue
			}
			// the masked gradient in dx first, then the same loop on it
			// (a masked value is +0 there, as the quantizer's gradient
			// op writes it)
			d, g := dx[o:o+4*n], dy[o:o+4*n]
			for i, v := range g[:len(m)] {
				if !m[i] {
					v = 0
				}
				d[i] = v
			}
			scaledRows4(d, d, x[o:o+4*n], f[j:j+4], df[j:j+4], n)
		}
		for ; j < j1; j++ {
			o := j * rowLen
			fj := f[j]
			d, g, xs, m := dx[o:o+rowLen], dy[o:o+rowLen], x[o:o+rowLen], mask[o:o+rowLen]
			var s T
			for i := range d {
				var a T
				if m[i] {
					a = g[i]
				}
				d[i] = a * fj
				s += a * xs[i]
			}
			df[j] = s
		}
	}
	if k := min(parallel.Chunks(len(x), scaledGrain), c/4); k > 1 {
		parallel.For(c, k, 4, func(_, lo, hi int) { rows(lo, hi) })
		return
	}
	rows(0, c)
}

// scaledRows4 sets, for the four rows of n values in dx, dy and x, dx =
// dy·f[r] and df[r] = Σ dy·x in row order, the four sums side by side. dx
// may be dy.
func scaledRows4[T float32 | float64](dx, dy, x, f, df []T, n int) {
	d0, d1, d2, d3 := dx[:n], dx[n:2*n], dx[2*n:3*n], dx[3*n:4*n]
	g0, g1, g2, g3 := dy[:n], dy[n:2*n], dy[2*n:3*n], dy[3*n:4*n]
	x0, x1, x2, x3 := x[:n], x[n:2*n], x[2*n:3*n], x[3*n:4*n]
	f0, f1, f2, f3 := f[0], f[1], f[2], f[3]
	var s0, s1, s2, s3 T
	for i := range n {
		a0, a1, a2, a3 := g0[i], g1[i], g2[i], g3[i]
		d0[i], d1[i], d2[i], d3[i] = a0*f0, a1*f1, a2*f2, a3*f3
		s0 += a0 * x0[i]
		s1 += a1 * x1[i]
		s2 += a2 * x2[i]
		s3 += a3 * x3[i]
	}
	df[0], df[1], df[2], df[3] = s0, s1, s2, s3
}

// allTrue reports whether every mask entry is true (by the runtime's
// vector byte search).
func allTrue(m []bool) bool {
	return len(m) == 0 || bytes.IndexByte(unsafe.Slice((*byte)(unsafe.Pointer(&m[0])), len(m)), 0) < 0
}
