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
