package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBnPlanes checks the batch norm's loops over a channel's planes in one
// call against the per-plane loops called plane by plane (their sums added
// in plane order), bit for bit: planes shorter than, equal to and longer
// than the 8-lane width with and without a tail, strides with gaps between
// the planes (whose values must stay untouched), clamped and unclamped
// outputs, masked and unmasked gradients with outputs at the window's
// edges, ±Inf and NaN.
func TestBnPlanes(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	kr, _ := asmBn()
	clampF := clampY
	pl := kr.planes
	r := rand.New(rand.NewPCG(91, 92))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{0, 6, 7, inf, -inf, nan, float32(math.Copysign(0, -1)), 5.999999, -1.5, 2.25}
	windows := []struct{ lo, hi float32 }{{0, nan}, {0, 6}, {-1.5, 2.25}, {math.Nextafter32(-1.5, -inf), 3}}
	for _, inner := range []int{1, 3, 7, 8, 9, 15, 16, 17, 49, 196} {
		for _, gap := range []int{0, 5} {
			for _, count := range []int{1, 2, 13} {
				stride := inner + gap
				n := (count-1)*stride + inner
				rnd := func(sp bool) []float32 {
					v := make([]float32, n+3) // the slices run past the last plane
					for i := range v {
						v[i] = float32(r.NormFloat64() * 3)
						if sp && r.IntN(4) == 0 {
							v[i] = special[r.IntN(len(special))]
						}
					}
					return v
				}
				x, dy, y := rnd(false), rnd(false), rnd(true)
				k := x[0]
				planes := func(f func(o int)) {
					for p := range count {
						f(p * stride)
					}
				}
				// sums: finite data, so that the sums compare by value and bits
				var w1, w2 float64
				planes(func(o int) {
					a, q := kr.sums(x[o:o+inner], k)
					w1 += a
					w2 += q
				})
				g1, g2 := pl.sums(x, inner, stride, count, k)
				if math.Float64bits(g1) != math.Float64bits(w1) || math.Float64bits(g2) != math.Float64bits(w2) {
					t.Fatalf("inner %d stride %d count %d: sums (%v, %v), plane by plane (%v, %v)", inner, stride, count, g1, g2, w1, w2)
				}
				for _, hi := range []float32{0, 6, inf} {
					want, got := append([]float32(nil), dy...), append([]float32(nil), dy...)
					planes(func(o int) {
						kr.affineAct(clampF, want[o:o+inner], x[o:o+inner], 0.75, -0.5, float64(hi))
					})
					pl.affineAct(got, x, inner, stride, count, 0.75, -0.5, hi, hi > 0)
					if !sameBits32(got, want) {
						t.Fatalf("inner %d stride %d count %d hi %v: affineAct differs", inner, stride, count, hi)
					}
				}
				for _, masked := range []bool{false, true} {
					for _, wd := range windows {
						var w1, w2 float64
						planes(func(o int) {
							var a, q float64
							if masked {
								a, q = kr.gradSumsClamp(dy[o:o+inner], y[o:o+inner], x[o:o+inner], k, wd.lo, wd.hi)
							} else {
								a, q = kr.gradSums(dy[o:o+inner], x[o:o+inner], k)
							}
							w1 += a
							w2 += q
						})
						g1, g2 := pl.gradSums(dy, y, x, inner, stride, count, k, wd.lo, wd.hi, masked)
						if math.Float64bits(g1) != math.Float64bits(w1) || math.Float64bits(g2) != math.Float64bits(w2) {
							t.Fatalf("inner %d stride %d count %d masked %v window %v: gradSums (%v, %v), plane by plane (%v, %v)",
								inner, stride, count, masked, wd, g1, g2, w1, w2)
						}
						want, got := append([]float32(nil), y...), append([]float32(nil), y...)
						planes(func(o int) {
							if masked {
								kr.affine2Clamp(want[o:o+inner], dy[o:o+inner], y[o:o+inner], x[o:o+inner], 0.5, -1.25, 0.125, wd.lo, wd.hi)
							} else {
								kr.affine2(want[o:o+inner], dy[o:o+inner], x[o:o+inner], 0.5, -1.25, 0.125)
							}
						})
						pl.affine2(got, dy, y, x, inner, stride, count, 0.5, -1.25, 0.125, wd.lo, wd.hi, masked)
						if !sameBits32(got, want) {
							t.Fatalf("inner %d stride %d count %d masked %v window %v: affine2 differs", inner, stride, count, masked, wd)
						}
					}
				}
			}
		}
	}
}
