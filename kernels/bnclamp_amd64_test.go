package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBnClampFused checks the fused batch-norm-backward loops (dy masked by
// the ReLU/ReLU6 gradient inside the loop) against the masked copy and the
// plain loops, bit for bit, on lengths around the 8-lane width with outputs
// at 0, at 6, above, +Inf and NaN.
func TestBnClampFused(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(81, 82))
	special := []float32{0, 6, 7, float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1)), 5.999999}
	for _, n := range []int{1, 7, 8, 9, 16, 23, 40} {
		for _, hi := range []float32{float32(math.Inf(1)), 6} {
			dy, y, x := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range dy {
				dy[i], x[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
				y[i] = float32(r.NormFloat64() * 5)
				if r.IntN(3) == 0 {
					y[i] = special[r.IntN(len(special))]
				}
			}
			g := make([]float32, n)
			clampGradY(g, y, dy, hi)
			ws, wq := gradSumsY(g, x, 0.25)
			gs, gq := gradSumsClampY(dy, y, x, 0.25, hi)
			if math.Float64bits(ws) != math.Float64bits(gs) || math.Float64bits(wq) != math.Float64bits(gq) {
				t.Errorf("n=%d hi=%v: sums (%v, %v), want (%v, %v)", n, hi, gs, gq, ws, wq)
			}
			want, got := make([]float32, n), make([]float32, n)
			affine2Y(want, g, x, 0.5, -1.25, 0.125)
			affine2ClampY(got, dy, y, x, 0.5, -1.25, 0.125, hi)
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("n=%d hi=%v: dx[%d] = %v, want %v (y %v)", n, hi, i, got[i], want[i], y[i])
				}
			}
		}
	}
}
