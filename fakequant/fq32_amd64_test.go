package fakequant

import (
	"math"
	"math/rand"
	"testing"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// TestFq32WidthsMatchScalar runs each vector loop this CPU has (the AVX2
// one on AVX-512 hosts too) against the scalar loop: values, masks, every
// tail length around both widths, with and without a mask.
func TestFq32WidthsMatchScalar(t *testing.T) {
	var ws []int
	if cpufeat.Host.AVX2 {
		ws = append(ws, 8)
	}
	if cpufeat.Host.AVX512 {
		ws = append(ws, 16)
	}
	if len(ws) == 0 {
		t.Log("no vector fake-quant loop on this CPU")
		return
	}
	rng := rand.New(rand.NewSource(10))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30}
	for _, w := range ws {
		for _, seg := range []seg32{newSeg32(0.05, 0, -128, 127), newSeg32(0.02, 37, 0, 255), newSeg32(1.0/3, 1, -2, 1)} {
			for n := 1; n <= 40; n++ {
				src := make([]float32, n)
				for i := range src {
					switch rng.Intn(5) {
					case 0:
						src[i] = special[rng.Intn(len(special))]
					case 1:
						src[i] = (float32(rng.Intn(600)-300) + 0.5) * seg.s
					default:
						src[i] = float32(rng.NormFloat64() * 4)
					}
				}
				want, got, gotNM := make([]float32, n), make([]float32, n), make([]float32, n)
				wm, gm := make([]bool, n), make([]bool, n)
				fq32Generic(want, wm, src, seg)
				fq32For(w, got, gm, src, seg)
				fq32For(w, gotNM, nil, src, seg)
				for i := range src {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || gm[i] != wm[i] || math.Float32bits(gotNM[i]) != math.Float32bits(want[i]) {
						t.Fatalf("width %d seg %+v n=%d: x=%g → %g mask %v (no mask %g), scalar %g mask %v", w, seg, n, src[i], got[i], gm[i], gotNM[i], want[i], wm[i])
					}
				}
			}
		}
	}
}
