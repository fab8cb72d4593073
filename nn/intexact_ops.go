package nn

import (
	"errors"
	"fmt"

	"github.com/qatgo/qatgo/internal/parallel"
	"github.com/qatgo/qatgo/intmodel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Integer-exact evaluation of the layers without weights whose output
// leaves the input's grid (Add, Concat, AvgPool2d and GlobalAvgPool with
// an output quantizer): the evaluation graph recovers the input codes and
// computes the output codes with the integer parameters of package intmodel
// (the ones export writes), so the fake-quant model and the integer model
// agree on them too.

// ActQuantOf converts a per-tensor activation quantizer of at most 8 bits
// to the integer model's activation quantization.
func ActQuantOf(q NamedQuantizer) (intmodel.ActQuant, error) {
	p, err := actParams(q.Name, q)
	if err != nil {
		return intmodel.ActQuant{}, err
	}
	a := intmodel.ActQuant{Scale: p.Scale[0], ZeroPoint: p.ZeroPoint[0], Bits: p.Scheme.Bits, Signed: p.Scheme.Signed}
	if err := a.Validate(); err != nil {
		return intmodel.ActQuant{}, fmt.Errorf("%w: activation %s: %v", ErrNotInteger, q.Name, err)
	}
	return a, nil
}

// exactFn computes output codes from input codes (one slice per input, in
// the inputs' NCHW or N×F order) with the layer's integer parameters.
type exactFn func(in [][]int32, acts []intmodel.ActQuant, out intmodel.ActQuant, outCodes []int32) error

// multiExact appends an integer-exact op after y for a layer with inputs
// xs on the grids inQs and output quantizer outQ.
func (b *Builder) multiExact(name string, inQs []NamedQuantizer, outQ NamedQuantizer, xs []*G.Node, y *G.Node, f exactFn) (*G.Node, error) {
	if b.mode != Eval || b.ie == nil || outQ.Q == nil {
		return y, nil
	}
	for _, q := range inQs {
		if q.Q == nil {
			return y, nil
		}
	}
	st := &intExactOp{ie: b.ie, name: name, inQs: inQs, outQ: outQ, fn: f}
	b.ie.ops = append(b.ie.ops, st)
	if b.ie.byName == nil {
		b.ie.byName = map[string]*intExactOp{}
	}
	b.ie.byName[name] = st
	op := &fnOp{name: "intexact." + name, dt: b.dt, outShape: y.Shape().Clone()}
	op.fwd = func(out *tensor.Dense, v []*tensor.Dense) error {
		return st.forwardMulti(out, v[:len(v)-1], v[len(v)-1])
	}
	return apply(op, append(append([]*G.Node(nil), xs...), y)...)
}

func (st *intExactOp) forwardMulti(out *tensor.Dense, xs []*tensor.Dense, y *tensor.Dense) error {
	st.used = false
	if !st.ie.on {
		st.reason = errors.New("nn: integer-exact evaluation is off")
		return copyDense(out, y)
	}
	for _, q := range append(append([]NamedQuantizer(nil), st.inQs...), st.outQ) {
		if o, ok := q.Q.(observingQ); ok && o.Observing() {
			st.reason = fmt.Errorf("nn: quantizer %s is observing", q.Name)
			return copyDense(out, y)
		}
	}
	acts := make([]intmodel.ActQuant, len(st.inQs))
	for i, q := range st.inQs {
		a, err := ActQuantOf(q)
		if err != nil {
			st.reason = err
			return copyDense(out, y)
		}
		acts[i] = a
	}
	oa, err := ActQuantOf(st.outQ)
	if err != nil {
		st.reason = err
		return copyDense(out, y)
	}
	ie := st.ie
	if len(ie.multi) < len(xs) {
		ie.multi = append(ie.multi, make([][]int32, len(xs)-len(ie.multi))...)
	}
	codes := ie.multi[:len(xs)]
	for i, x := range xs {
		codes[i] = grow(codes[i], x.Shape().TotalSize())
		s, z := float64(acts[i].Scale), acts[i].ZeroPoint
		bad := -1
		switch d := x.Data().(type) {
		case []float32:
			_, bad = inputCodes(d, s, z, codes[i], nil)
		case []float64:
			_, bad = inputCodes(d, s, z, codes[i], nil)
		}
		if bad >= 0 {
			st.reason = fmt.Errorf("nn: %s: input %d value %g is not on its quantizer's grid (S=%g): integer-exact evaluation needs quantized inputs", st.name, i, floats64(nil, x)[bad], s)
			return st.reason
		}
	}
	n := out.Shape().TotalSize()
	st.outCodes = grow(st.outCodes, n)
	if err := st.fn(codes, acts, oa, st.outCodes); err != nil {
		st.reason = err
		return err
	}
	st.inCodes = append(st.inCodes[:0], codes[0]...)
	var differ int64
	switch d := out.Data().(type) {
	case []float32:
		differ = writeCompare(d, y.Data().([]float32), st.outCodes, oa.Scale, oa.ZeroPoint)
	case []float64:
		differ = writeCompare(d, y.Data().([]float64), st.outCodes, oa.Scale, oa.ZeroPoint)
	}
	st.codes += int64(n)
	st.differ += differ
	st.used, st.reason = true, nil
	return nil
}

// writeCompare writes S·(q − Z) of every code into out and returns how
// many codes the float simulation y rounds differently, split over the
// cores.
func writeCompare[T float32 | float64](out, y []T, codes []int32, s float32, z int32) int64 {
	inv := 1 / float64(s) // as inputCodes: y is on the grid
	return countSplit(len(codes), parallel.Chunks(len(codes), exactGrain), func(lo, hi int) (d int64) {
		for i := lo; i < hi; i++ {
			if emit(out, y, i, codes[i], inv, s, z) {
				d++
			}
		}
		return d
	})
}

// integerExactPool is the integer-exact form of an average pool (AvgPool2d
// or GlobalAvgPool) with an output quantizer.
func (b *Builder) integerExactPool(l describer, inQ NamedQuantizer, x, y *G.Node) (*G.Node, error) {
	li := l.describe()
	xs := x.Shape()
	if xs.Dims() != 4 {
		return y, nil
	}
	h, w := xs[2], xs[3]
	f := func(in [][]int32, acts []intmodel.ActQuant, oa intmodel.ActQuant, out []int32) error {
		if li.Kind == "globalavgpool" {
			r, err := intmodel.NewRescale(acts[0], oa, h*w)
			if err != nil {
				return err
			}
			for m := range out {
				var acc int32
				for _, q := range in[0][m*h*w : (m+1)*h*w] {
					acc += q - acts[0].ZeroPoint
				}
				out[m] = r.Apply(acc)
			}
			return nil
		}
		k, s, p := li.Kernel, li.Stride, li.Padding
		r, err := intmodel.NewRescale(acts[0], oa, k[0]*k[1])
		if err != nil {
			return err
		}
		oh, ow := (h+2*p[0]-k[0])/s[0]+1, (w+2*p[1]-k[1])/s[1]+1
		for m := range len(in[0]) / (h * w) {
			src := in[0][m*h*w : (m+1)*h*w]
			dst := out[m*oh*ow : (m+1)*oh*ow]
			for oy := range oh {
				for ox := range ow {
					var acc int32
					for ky := range k[0] {
						iy := oy*s[0] - p[0] + ky
						if iy < 0 || iy >= h {
							continue
						}
						for kx := range k[1] {
							ix := ox*s[1] - p[1] + kx
							if ix >= 0 && ix < w {
								acc += src[iy*w+ix] - acts[0].ZeroPoint
							}
						}
					}
					dst[oy*ow+ox] = r.Apply(acc)
				}
			}
		}
		return nil
	}
	return b.multiExact(li.Name, []NamedQuantizer{inQ}, li.OutputQ, []*G.Node{x}, y, f)
}

// integerExactAdd is the integer-exact form of an Add.
func (b *Builder) integerExactAdd(a *Add, q1, q2 NamedQuantizer, x1, x2, y *G.Node) (*G.Node, error) {
	f := func(in [][]int32, acts []intmodel.ActQuant, oa intmodel.ActQuant, out []int32) error {
		l, err := intmodel.NewAdd(a.LayerName, acts[0], acts[1], oa)
		if err != nil {
			return err
		}
		l.QMin, l.QMax = intmodel.ClampFor(oa, a.ReLU, a.ReLU6)
		parallel.For(len(out), parallel.Chunks(len(out), exactGrain), 1, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				out[i] = l.Apply(in[0][i], in[1][i])
			}
		})
		return nil
	}
	return b.multiExact(a.LayerName, []NamedQuantizer{q1, q2}, nq(a.LayerName+".act", a.AQ), []*G.Node{x1, x2}, y, f)
}

// integerExactConcat is the integer-exact form of a Concat.
func (b *Builder) integerExactConcat(c *Concat, qs []NamedQuantizer, xs []*G.Node, y *G.Node) (*G.Node, error) {
	n := y.Shape()[0]
	f := func(in [][]int32, acts []intmodel.ActQuant, oa intmodel.ActQuant, out []int32) error {
		l, err := intmodel.NewConcat(c.LayerName, acts, oa)
		if err != nil {
			return err
		}
		total := len(out) / n
		off := 0
		for i, src := range in {
			w := len(src) / n
			for s := range n {
				for j, q := range src[s*w : (s+1)*w] {
					out[s*total+off+j] = l.Requant[i].Apply(q - acts[i].ZeroPoint)
				}
			}
			off += w
		}
		return nil
	}
	return b.multiExact(c.LayerName, qs, nq(c.LayerName+".act", c.AQ), xs, y, f)
}
