package minmax

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Fast (AVX2 where the CPU has it) against FastScalar on lengths
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
			mn, mx, ok := Fast(x)
			wmn, wmx, wok := FastScalar(x)
			if ok != wok || ok && (mn != wmn || mx != wmx) {
				t.Fatalf("n %d trial %d: Fast = %v %v %v, scalar %v %v %v", n, trial, mn, mx, ok, wmn, wmx, wok)
			}
		}
	}
}

// Acc over several slices (lengths around the 16- and 64-value steps, the
// masked tail included) against a plain loop over their concatenation: the
// same min and max, and ok false whenever one value is a NaN or an
// infinity. The lanes past a tail must stay untouched (the sentinel after
// each slice is never read).
func TestAccMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	lengths := []int{0, 1, 15, 16, 17, 63, 64, 65, 100, 127, 128, 129, 1024}
	for trial := range 200 {
		var a Acc
		a.Reset()
		mn, mx := float32(math.Inf(1)), float32(math.Inf(-1))
		bad := false
		for range 1 + rng.IntN(4) {
			n := lengths[rng.IntN(len(lengths))]
			buf := make([]float32, n+1)
			buf[n] = -1e30 // beyond the slice: must not count
			x := buf[:n]
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 100)
			}
			if n > 0 && trial%5 == 1 {
				x[rng.IntN(n)] = float32(math.Inf(1 - 2*rng.IntN(2)))
				bad = true
			}
			if n > 0 && trial%5 == 2 {
				x[rng.IntN(n)] = float32(math.NaN())
				bad = true
			}
			for _, v := range x {
				mn, mx = min(mn, v), max(mx, v)
			}
			a.Add(x)
		}
		gmn, gmx, ok := a.Result()
		if bad {
			if ok {
				t.Fatalf("trial %d: ok with a non-finite value", trial)
			}
			continue
		}
		if mn > mx { // nothing added
			if ok {
				t.Fatalf("trial %d: ok with no values", trial)
			}
			continue
		}
		if !ok || gmn != mn || gmx != mx {
			t.Fatalf("trial %d: Result = %v %v %v, want %v %v", trial, gmn, gmx, ok, mn, mx)
		}
	}
}
