package intruntime

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// The masked depthwise kernel against the scalar definition (itself
// checked against the naive convolution through the runner's tests) on
// every plane size MobileNetV2 has and odd ones, extreme codes and
// weights, a first plane at the buffer's start (the guard) and planes at
// its end (the slack).
func TestDwMaskMatchesScalar(t *testing.T) {
	if !cpufeat.Host.AVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for _, g := range []struct{ h, w int }{{4, 4}, {7, 7}, {14, 14}, {28, 28}, {3, 6}, {5, 9}, {16, 1}, {1, 17}, {31, 2}} {
		p := newDwMaskPlan(g.h, g.w)
		if p == nil {
			t.Fatalf("%dx%d: no plan", g.h, g.w)
		}
		for _, extreme := range []bool{false, true} {
			const planes = 5
			src := makeBuf(planes * p.hw)
			for i := range src {
				src[i] = uint8(rng.IntN(256))
				if extreme {
					src[i] = 255
				}
			}
			w := make([]int8, 9)
			for i := range w {
				w[i] = int8(rng.IntN(256) - 128)
				if extreme {
					w[i] = -128
				}
			}
			zx := uint8(rng.IntN(256))
			var wp [5]uint32
			dwMaskWeights(&wp, w)
			guard := make([]uint8, 2*slack+p.hw)
			for _, c := range []struct{ off, planes int }{{0, planes}, {0, 1}, {p.hw, planes - 1}, {(planes - 1) * p.hw, 1}} {
				got, want := make([]int32, c.planes*p.hw+1), make([]int32, c.planes*p.hw+1)
				got[len(got)-1], want[len(want)-1] = 7, 7
				dwMaskY(got[:c.planes*p.hw], src, c.off, c.planes, p, &wp, zx, guard)
				dwMaskScalar(want, src, c.off, c.planes, p, w, zx)
				if !slices.Equal(got, want) {
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%dx%d extreme %v %+v: output %d (plane %d, y %d, x %d) %d, want %d", g.h, g.w, extreme, c, i, i/p.hw, i%p.hw/g.w, i%g.w, got[i], want[i])
						}
					}
				}
			}
		}
	}
	if newDwMaskPlan(3, 5) != nil || newDwMaskPlan(2, slack) != nil {
		t.Errorf("planned a plane under a vector or a row past the slack")
	}
}
