package kernels

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// TestEngineAdd checks Engine's Add against tensor.StdEng's, bit for bit, in
// every form gorgonia's tape machine calls it (into a reuse tensor, unsafe
// into the first operand) and in those it must hand back to StdEng (a safe
// call, an increment, a transposed view, mixed dtypes).
func TestEngineAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 3*parallelMin + 7 // split over the cores, with a tail
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		mk := func(e tensor.Engine, shape ...int) *tensor.Dense {
			t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...), tensor.WithEngine(e))
			switch d := t.Data().(type) {
			case []float32:
				for i := range d {
					d[i] = float32(rng.NormFloat64())
				}
			case []float64:
				for i := range d {
					d[i] = rng.NormFloat64()
				}
			}
			return t
		}
		for _, tc := range []struct {
			name string
			call func(a, b *tensor.Dense) (tensor.Tensor, error)
		}{
			{"reuse", func(a, b *tensor.Dense) (tensor.Tensor, error) {
				return tensor.Add(a, b, tensor.WithReuse(tensor.New(tensor.Of(dt), tensor.WithShape(a.Shape()...))))
			}},
			{"unsafe", func(a, b *tensor.Dense) (tensor.Tensor, error) { return tensor.Add(a, b, tensor.UseUnsafe()) }},
			{"safe", func(a, b *tensor.Dense) (tensor.Tensor, error) { return tensor.Add(a, b) }},
			{"incr", func(a, b *tensor.Dense) (tensor.Tensor, error) {
				inc := tensor.New(tensor.Of(dt), tensor.WithShape(a.Shape()...))
				return tensor.Add(a, b, tensor.WithIncr(inc))
			}},
			{"view", func(a, b *tensor.Dense) (tensor.Tensor, error) {
				av, bv := a.Clone().(*tensor.Dense), b.Clone().(*tensor.Dense)
				if err := av.T(); err != nil {
					return nil, err
				}
				if err := bv.T(); err != nil {
					return nil, err
				}
				return tensor.Add(av, bv)
			}},
		} {
			a := mk(Engine(), 7, n/7+1)
			b := mk(Engine(), 7, n/7+1)
			a0, b0 := a.Clone().(*tensor.Dense), b.Clone().(*tensor.Dense)
			tensor.WithEngine(tensor.StdEng{})(a0)
			tensor.WithEngine(tensor.StdEng{})(b0)
			got, err := tc.call(a, b)
			if err != nil {
				t.Fatalf("%v %s: %v", dt, tc.name, err)
			}
			want, err := tc.call(a0, b0)
			if err != nil {
				t.Fatalf("%v %s, StdEng: %v", dt, tc.name, err)
			}
			if !got.Shape().Eq(want.Shape()) {
				t.Fatalf("%v %s: shape %v, StdEng %v", dt, tc.name, got.Shape(), want.Shape())
			}
			rows, cols := got.Shape()[0], got.Shape()[1]
			for i := range rows {
				for j := range cols {
					g, _ := got.At(i, j)
					w, _ := want.At(i, j)
					if g != w {
						t.Fatalf("%v %s: element (%d, %d) is %v, StdEng gives %v", dt, tc.name, i, j, g, w)
					}
				}
			}
		}
	}
}
