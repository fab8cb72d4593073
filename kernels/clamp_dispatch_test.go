package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The dispatched ReLU/ReLU6 gradient, row add and add (assembly where the CPU
// has it: scripts/test.sh reruns this under every QATGO_CPU level) against
// the plain loops, bit for bit, on every tail length and on the special
// values: ±0, ±∞, NaN, the bound itself.
func TestClampGradAndAddRowMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), 6, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 5.999999, 6.000001, -1e-30, 1e-30}
	for _, hi := range []float32{6, float32(math.Inf(1))} {
		for n := range 40 {
			x, dy := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 4)
				if rng.IntN(3) == 0 {
					x[i] = special[rng.IntN(len(special))]
				}
				dy[i] = float32(rng.NormFloat64())
				if rng.IntN(5) == 0 {
					dy[i] = special[rng.IntN(len(special))]
				}
			}
			fy, wy := make([]float32, n), make([]float32, n)
			clampTo(fy, x, hi)
			clampGeneric(wy, x, hi)
			for i := range fy {
				if math.Float32bits(fy[i]) != math.Float32bits(wy[i]) && !(fy[i] != fy[i] && wy[i] != wy[i]) {
					t.Fatalf("hi %v n %d: clamp[%d] = %v (x %v), want %v", hi, n, i, fy[i], x[i], wy[i])
				}
			}
			got, want := make([]float32, n), make([]float32, n)
			clampGrad(got, x, dy, hi)
			clampGradGeneric(want, x, dy, hi)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("hi %v n %d: clampGrad[%d] = %v (x %v, dy %v), want %v", hi, n, i, got[i], x[i], dy[i], want[i])
				}
			}
			d1, d2 := make([]float32, n), make([]float32, n)
			copy(d1, dy)
			copy(d2, dy)
			_, add := rowOps[float32]()
			add(d1, x)
			for i, v := range x {
				d2[i] += v
			}
			for i := range d1 {
				if math.Float32bits(d1[i]) != math.Float32bits(d2[i]) && !(d1[i] != d1[i] && d2[i] != d2[i]) {
					t.Fatalf("n %d: addRow[%d] = %v, want %v", n, i, d1[i], d2[i])
				}
			}
			// The three-operand add, into a fresh slice and in place on
			// either operand (the forms engine.Add is called in).
			for alias := range 3 {
				a, b := slices.Clone(x), slices.Clone(dy)
				y := make([]float32, n)
				switch alias {
				case 1:
					y = a
				case 2:
					y = b
				}
				add32(y, a, b)
				for i := range y {
					want := x[i] + dy[i]
					if math.Float32bits(y[i]) != math.Float32bits(want) && !(y[i] != y[i] && want != want) {
						t.Fatalf("n %d alias %d: add[%d] = %v, want %v", n, alias, i, y[i], want)
					}
				}
			}
		}
	}
}

// The dispatched batch-norm loops (AVX2 + FMA, 8-lane partial sums, where
// the CPU has them) against the Go ones, within float32 rounding.
func TestBnKernelsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	k := bnKernelsFor[float32]()
	near := func(what string, n int, got, want, scale float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-5*scale+1e-6 {
			t.Fatalf("%s n %d: %v, want %v (scale %v)", what, n, got, want, scale)
		}
	}
	for _, n := range []int{0, 1, 7, 8, 9, 31, 100, 1000} {
		x, dy := make([]float32, n), make([]float32, n)
		var scale float64
		for i := range x {
			x[i], dy[i] = float32(rng.NormFloat64()*3+1), float32(rng.NormFloat64())
			scale += math.Abs(float64(x[i]-0.5))*(1+math.Abs(float64(x[i]-0.5))) + math.Abs(float64(dy[i]))*(1+math.Abs(float64(x[i])))
		}
		s1, s2 := k.sums(x, 0.5)
		w1, w2 := sumsGeneric(x, 0.5)
		near("sums Σd", n, s1, w1, scale)
		near("sums Σd²", n, s2, w2, scale)
		g1, g2 := k.gradSums(dy, x, 0.5)
		v1, v2 := gradSumsGeneric(dy, x, 0.5)
		near("gradSums Σdy", n, g1, v1, scale)
		near("gradSums Σdy·d", n, g2, v2, scale)
		y, wy := make([]float32, n), make([]float32, n)
		k.affine(y, x, 1.5, -0.25)
		affineGeneric(wy, x, 1.5, -0.25)
		k.affine2(y[:0], dy[:0], x[:0], 1, 1, 1) // empty is a no-op
		for i := range y {
			near("affine", n, float64(y[i]), float64(wy[i]), 1+math.Abs(float64(wy[i])))
		}
		k.affine2(y, dy, x, 0.7, -1.25, 0.125)
		affine2Generic(wy, dy, x, 0.7, -1.25, 0.125)
		for i := range y {
			near("affine2", n, float64(y[i]), float64(wy[i]), 1+math.Abs(float64(wy[i])))
		}
	}
}

// The dispatched depthwise loops (AVX2 + FMA where the CPU has them)
// against the Go ones, within float32 rounding, on row lengths with and
// without a tail, 1 to 9 taps, with add on and off.
func TestDwKernelsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	k := dwKernelsFor[float32]()
	for _, ow := range []int{1, 7, 8, 13, 16, 28} {
		for _, taps := range []int{1, 4, 5, 9} {
			for _, c := range []struct {
				add bool
				oh  int
			}{{false, 3}, {true, 3}, {false, 4}, {true, 9}, {false, 9}} {
				add, oh := c.add, c.oh
				pitch := ow + 3
				offs := make([]int, taps)
				for i := range offs {
					offs[i] = rng.IntN(2*pitch + 3)
				}
				in := make([]float32, 2*pitch+3+(oh-1)*pitch+ow)
				for i := range in {
					in[i] = float32(rng.NormFloat64())
				}
				w, dy := make([]float32, taps), make([]float32, oh*ow)
				for i := range w {
					w[i] = float32(rng.NormFloat64())
				}
				got, want := make([]float32, oh*ow), make([]float32, oh*ow)
				for i := range got {
					dy[i] = float32(rng.NormFloat64())
					got[i], want[i] = dy[i], dy[i]
				}
				k.corrRows(got, oh, ow, in, pitch, offs, w, 0.5, add)
				corrRowsGeneric(want, oh, ow, in, pitch, offs, w, 0.5, add)
				for i := range got {
					if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("corrRows ow %d taps %d add %v: [%d] %v, want %v", ow, taps, add, i, got[i], want[i])
					}
				}
				acc := make([]float32, k.lanes*taps)
				wacc := make([]float32, taps)
				k.dotsRows(acc, dy, oh, ow, in, pitch, offs)
				dotsRowsGeneric(wacc, dy, oh, ow, in, pitch, offs)
				for ti := range taps {
					var s float64
					for _, v := range acc[ti*k.lanes : (ti+1)*k.lanes] {
						s += float64(v)
					}
					if math.Abs(s-float64(wacc[ti])) > 1e-4*(1+math.Abs(float64(wacc[ti]))) {
						t.Fatalf("dotsRows ow %d taps %d: tap %d %v, want %v", ow, taps, ti, s, wacc[ti])
					}
				}
			}
		}
	}
}
