package fakequant

import (
	"math"
	"math/rand"
	"testing"
)

// TestFq32MatchesScalar checks that fq32 (the vector loop in a
// GOEXPERIMENT=simd build) gives bit-identical values and masks to the
// scalar loop, on lengths around the 16-lane width, with values on rounding
// ties, far outside the range, and non-finite.
func TestFq32MatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30}
	for _, seg := range []seg32{
		newSeg32(0.05, 0, -128, 127), // int8 symmetric
		newSeg32(0.02, 37, 0, 255),   // uint8 affine
		newSeg32(0.5, -3, -8, 7),     // 4-bit
		newSeg32(1, 0, -127, 127),    // narrow range, integer ties at x.5
		newSeg32(3e-5, 128, 0, 255),  // tiny scale: most values clip
		newSeg32(0.25, 255, 0, 255),  // zero point at the top
		newSeg32(0.25, 0, 0, 255),    // zero point at the bottom
		newSeg32(1.0/3, 1, -2, 1),    // 2-bit
	} {
		for _, n := range []int{1, 15, 16, 17, 31, 32, 100, 1000} {
			src := make([]float32, n)
			for i := range src {
				switch rng.Intn(6) {
				case 0:
					src[i] = special[rng.Intn(len(special))]
				case 1: // a tie: (k + 0.5)·S
					src[i] = (float32(rng.Intn(600)-300) + 0.5) * seg.s
				default:
					src[i] = float32(rng.NormFloat64() * 3)
				}
			}
			want, got := make([]float32, n), make([]float32, n)
			wm, gm := make([]bool, n), make([]bool, n)
			fq32Generic(want, wm, src, seg)
			fq32(got, gm, src, seg)
			for i := range src {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || gm[i] != wm[i] {
					t.Fatalf("seg %+v n=%d: x=%g → %g mask %v, scalar %g mask %v", seg, n, src[i], got[i], gm[i], want[i], wm[i])
				}
			}
			// Without a mask, in place.
			fq32(src, nil, src, seg)
			for i := range src {
				if math.Float32bits(src[i]) != math.Float32bits(want[i]) {
					t.Fatalf("seg %+v n=%d in place: %g, want %g", seg, n, src[i], want[i])
				}
			}
		}
	}
}

// TestMaskGrad32 checks the straight-through gradient (the vector loop in a
// GOEXPERIMENT=simd build) against the rule dst = g where mask, else 0.
func TestMaskGrad32(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	for _, n := range []int{1, 15, 16, 17, 33, 100} {
		g, mask := make([]float32, n), make([]bool, n)
		for i := range g {
			g[i] = float32(rng.NormFloat64())
			mask[i] = rng.Intn(3) > 0
		}
		dst := make([]float32, n)
		for i := range dst {
			dst[i] = 99 // stale values must be overwritten
		}
		maskGrad32(dst, g, mask)
		for i := range g {
			want := float32(0)
			if mask[i] {
				want = g[i]
			}
			if dst[i] != want {
				t.Fatalf("n=%d: dst[%d] = %g, want %g (mask %v)", n, i, dst[i], want, mask[i])
			}
		}
	}
}

// TestZeroMasked checks the in-place straight-through gradient on masks
// from all true to mostly false: sparse ones take the byte search, dense
// ones switch to the masking pass part way, and both give g·mask.
func TestZeroMasked(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for _, tc := range []struct {
		n     int
		false float64 // share of false mask entries
	}{
		{0, 0}, {1, 1}, {17, 0}, {1000, 0.001}, {4096, 0.01}, {4096, 0.3}, {100000, 0.02}, {100000, 0.9}, {333, 1},
	} {
		g32, g64 := make([]float32, tc.n), make([]float64, tc.n)
		mask := make([]bool, tc.n)
		for i := range g32 {
			g32[i] = float32(rng.NormFloat64())
			g64[i] = float64(g32[i])
			mask[i] = rng.Float64() >= tc.false
		}
		want := make([]float32, tc.n)
		maskGradGeneric(want, g32, mask)
		zeroMasked(g32, mask, func(g []float32, m []bool) { maskGrad32(g, g, m) })
		zeroMasked(g64, mask, func(g []float64, m []bool) { maskGradGeneric(g, g, m) })
		for i := range want {
			if g32[i] != want[i] || g64[i] != float64(want[i]) {
				t.Fatalf("n=%d false=%g: [%d] = %g / %g, want %g (mask %v)", tc.n, tc.false, i, g32[i], g64[i], want[i], mask[i])
			}
		}
	}
}
