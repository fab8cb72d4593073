package kernels

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GlobalAvgPool returns the mean of each plane of x (N,C,H,W) as an (N,C)
// matrix, ready for a Linear head: PyTorch's adaptive_avg_pool2d(x, 1)
// followed by flatten(1), y[n,c] = Σ_hw x[n,c,h,w] / (H·W). Its gradient
// spreads dy[n,c]/(H·W) over the plane. x is Float32 or Float64.
func GlobalAvgPool(x *G.Node) (*G.Node, error) {
	xs := x.Shape()
	if len(xs) != 4 || xs.TotalSize() < 1 {
		return nil, fmt.Errorf("%w: GlobalAvgPool: x %v must be 4-D (NCHW) and not empty", ErrShape, xs)
	}
	st := &eltState{shape: xs.Clone()}
	return G.ApplyOp(&gapOp{opBase: opBase{name: "kernels.GlobalAvgPool"}, st: st}, x)
}

type gapOp struct {
	opBase
	st  *eltState
	out *tensor.Dense
}

func (o *gapOp) Arity() int            { return 1 }
func (o *gapOp) Type() hm.Type         { return opType(2, 4) }
func (o *gapOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *gapOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *gapOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 1)
	if err != nil {
		return nil, err
	}
	if len(s[0]) != 4 {
		return nil, fmt.Errorf("%w: %s: x %v must be 4-D", ErrShape, o.name, s[0])
	}
	return tensor.Shape{s[0][0], s[0][1]}, nil
}

func (o *gapOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 1)
	if err != nil {
		return nil, err
	}
	xs := in[0].Shape()
	if len(xs) != 4 || xs[2]*xs[3] < 1 {
		return nil, fmt.Errorf("%w: %s: x %v", ErrShape, o.name, xs)
	}
	out := reuseOut(&o.out, dt, xs[0], xs[1])
	if dt == tensor.Float32 {
		gapForward(out.Data().([]float32), in[0].Data().([]float32), xs[2]*xs[3])
	} else {
		gapForward(out.Data().([]float64), in[0].Data().([]float64), xs[2]*xs[3])
	}
	return out, nil
}

func gapForward[T float](y, x []T, hw int) {
	div := T(hw)
	splitFlat(len(x), func(lo, hi int) {
		// Split on plane boundaries.
		for p := (lo + hw - 1) / hw; p < (hi+hw-1)/hw; p++ {
			y[p] = sum(x[p*hw:(p+1)*hw]) / div
		}
	})
}

// sum adds s with four partial sums, which the CPU runs in parallel.
func sum[T float](s []T) T {
	var a0, a1, a2, a3 T
	for len(s) >= 4 {
		a0 += s[0]
		a1 += s[1]
		a2 += s[2]
		a3 += s[3]
		s = s[4:]
	}
	for _, v := range s {
		a0 += v
	}
	return (a0 + a1) + (a2 + a3)
}

func (o *gapOp) DiffWRT(int) []bool { return []bool{true} }

func (o *gapOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&gapGradOp{opBase: opBase{name: "kernels.GlobalAvgPoolGrad"}, st: o.st}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// gapGradOp: dy (N,C) → dx (N,C,H,W) = dy[n,c]/(H·W) on every pixel.
type gapGradOp struct {
	opBase
	noDiff
	st  *eltState
	out *tensor.Dense
	ownPlan
}

func (o *gapGradOp) Arity() int            { return 1 }
func (o *gapGradOp) Type() hm.Type         { return opType(4, 2) }
func (o *gapGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *gapGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *gapGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return o.st.shape.Clone(), nil
}

func (o *gapGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 1)
	if err != nil {
		return nil, err
	}
	xs := o.st.shape
	if ds := in[0].Shape(); ds.TotalSize() != xs[0]*xs[1] {
		return nil, fmt.Errorf("%w: %s: dy %v for x %v", ErrShape, o.name, ds, xs)
	}
	out := plannedOut(&o.out, o.plan, dt, xs...)
	if dt == tensor.Float32 {
		gapBackward(out.Data().([]float32), in[0].Data().([]float32), xs[2]*xs[3])
	} else {
		gapBackward(out.Data().([]float64), in[0].Data().([]float64), xs[2]*xs[3])
	}
	return out, nil
}

func gapBackward[T float](dx, dy []T, hw int) {
	div := T(hw)
	splitFlat(len(dx), func(lo, hi int) {
		for p := (lo + hw - 1) / hw; p < (hi+hw-1)/hw; p++ {
			v := dy[p] / div
			plane := dx[p*hw : (p+1)*hw]
			for i := range plane {
				plane[i] = v
			}
		}
	})
}
