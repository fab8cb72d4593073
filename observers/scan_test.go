package observers

import (
	"math"
	"math/rand/v2"
	"testing"
)

// scanFast (AVX2 where the CPU has it) against scanFastScalar on lengths
// around the vector step, with infinities and NaNs that must clear ok.
func TestScanFastMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 63, 64, 65, 79, 80, 81, 200, 1001} {
		for trial := range 20 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 10)
			}
			if n > 0 && trial%4 == 1 {
				x[rng.IntN(n)] = float32(math.Inf(1 - 2*rng.IntN(2)))
			}
			if n > 0 && trial%4 == 2 {
				x[rng.IntN(n)] = float32(math.NaN())
			}
			mn, mx, ok := scanFast(x)
			wmn, wmx, wok := scanFastScalar(x)
			if ok != wok || ok && (mn != wmn || mx != wmx) {
				t.Fatalf("n %d trial %d: scanFast = %v %v %v, scalar %v %v %v", n, trial, mn, mx, ok, wmn, wmx, wok)
			}
		}
	}
}
