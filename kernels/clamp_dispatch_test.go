package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The dispatched ReLU/ReLU6 gradient and row add (assembly where the CPU
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
