package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernelPairSameBits: the 8×32 kernel over two A panels writes what two
// 4×32 calls write, bit for bit, for every column count, with and without
// accumulation into C, alpha 1 and not, and leaves C's other columns and
// rows alone.
func TestKernelPairSameBits(t *testing.T) {
	if hostFloatKernel != fkAVX512 {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(61, 62))
	const ldc = nr + 5
	for _, kc := range []int{1, 2, 7, 144} {
		a, a2, b := randSlice(r, kc*mr), randSlice(r, kc*mr), randSlice(r, kc*nr)
		a[0], b[3] = float32(math.Inf(1)), float32(math.NaN())
		for cols := 1; cols <= nr; cols++ {
			for _, acc := range []bool{false, true} {
				for _, alpha := range []float32{1, -0.75} {
					c0 := randSlice(r, 2*mr*ldc+1)
					want := append([]float32(nil), c0...)
					if !kernelCols(fkAVX512, kc, a, b, want, ldc, alpha, acc, cols) || !kernelCols(fkAVX512, kc, a2, b, want[mr*ldc:], ldc, alpha, acc, cols) {
						t.Fatal("kernelCols declined AVX-512")
					}
					got := append([]float32(nil), c0...)
					if !kernelPair(fkAVX512, kc, a, a2, b, got, ldc, alpha, acc, cols) {
						t.Fatal("kernelPair declined AVX-512")
					}
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("kc %d, %d cols, acc %v, alpha %v: C[%d] = %v, two 4-row calls %v", kc, cols, acc, alpha, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
