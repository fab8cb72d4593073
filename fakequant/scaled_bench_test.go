package fakequant

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkScaledBackward: the scaled quantizer's backward over
// resnet20's 3×3 weights (the 64-channel layers' share, 36,864 weights).
func BenchmarkScaledBackward(b *testing.B) {
	const c, rowLen = 64, 576
	r := rand.New(rand.NewPCG(1, 2))
	x, dy, dx := make([]float32, c*rowLen), make([]float32, c*rowLen), make([]float32, c*rowLen)
	f, df := make([]float32, c), make([]float32, c)
	mask := make([]bool, c*rowLen)
	for i := range x {
		x[i], dy[i], mask[i] = float32(r.NormFloat64()), float32(r.NormFloat64()), true
	}
	for i := range f {
		f[i] = float32(r.Float64())
	}
	b.SetBytes(int64(len(x) * 4))
	for b.Loop() {
		scaledBackward(dx, df, dy, x, f, mask, rowLen)
	}
}
