package fakequant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWindow: Window's ends are on the grid and their outer float32
// neighbours are not (FakeQuantize's mask), for signed, unsigned, narrow
// and 1-bit grids, odd scales and zero points at the ends; random values
// are inside exactly when the mask is true.
func TestWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	mask := func(x float32, c seg32) bool {
		var m [1]bool
		var d [1]float32
		fq32Generic(d[:], m[:], []float32{x}, c)
		return m[0]
	}
	inf := float32(math.Inf(1))
	cases := []struct {
		s         float32
		z, qa, qb int32
	}{
		{0.1, 0, 0, 255}, {0.1, 128, 0, 255}, {0.0237, 3, 0, 15}, {1.0 / 3, -4, -8, 7}, {0.5, 0, -127, 127},
		{1e-6, 255, 0, 255}, {7.25, 0, 0, 1}, {0.013, -2, -2, 1}, {3e-3, 65535, 0, 65535}, {1e30, 0, 0, 3},
	}
	for _, k := range cases {
		c := newSeg32(k.s, k.z, k.qa, k.qb)
		lo, hi := Window(k.s, k.z, k.qa, k.qb)
		if !mask(lo, c) || !mask(hi, c) || !mask(0, c) || lo > 0 || hi < 0 {
			t.Fatalf("%+v: window [%v, %v] not on the grid", k, lo, hi)
		}
		if mask(math.Nextafter32(lo, -inf), c) || mask(math.Nextafter32(hi, inf), c) {
			t.Fatalf("%+v: window [%v, %v] is not the widest", k, lo, hi)
		}
		for range 20000 {
			span := max(-lo, hi) * 1.5
			x := float32(r.Float64()*2-1) * span
			if r.IntN(4) == 0 { // near an end
				x = math.Float32frombits(math.Float32bits([]float32{lo, hi}[r.IntN(2)]) + uint32(r.IntN(5)) - 2)
			}
			if got := lo <= x && x <= hi; got != mask(x, c) {
				t.Fatalf("%+v: x = %v: in window %v, mask %v", k, x, got, !got)
			}
		}
		if mask(float32(math.NaN()), c) || mask(inf, c) || mask(-inf, c) {
			t.Fatalf("%+v: non-finite values pass", k)
		}
	}
}
