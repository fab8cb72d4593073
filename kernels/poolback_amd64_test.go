package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPool2BackSameBits: the vector gradient of a 2×2 stride-2 pool writes
// what poolBackward (clear, then add dy at each maximum) and
// poolBackwardMasked write, bit for bit, over dx holding garbage: rows of
// every width mod 4 outputs (the masked last chunk), a block of planes
// starting inside the tensor (off ≠ 0, as the split runs it), dy with −0,
// ±Inf and NaN, pre at the window's edges and NaN, windows with and
// without an upper bound.
func TestPool2BackSameBits(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(71, 72))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negz := float32(math.Copysign(0, -1))
	specials := []float32{negz, 0, inf, -inf, nan, 1.5, -2}
	for _, w := range []int{2, 4, 6, 8, 10, 14, 24, 28, 42} {
		for _, planes := range []int{1, 3} {
			h := 2 * (1 + r.IntN(4))
			const skip = 2 // planes before the block: am's indices start there
			in, out := h*w, h*w/4
			am := make([]int32, planes*out)
			dy := make([]float32, planes*out)
			pre := make([]float32, planes*in)
			for i := range pre {
				pre[i] = float32(r.IntN(7)-3) * 0.25
				if r.IntN(9) == 0 {
					pre[i] = nan
				}
			}
			for p := range planes {
				for oy := range h / 2 {
					for ox := range w / 2 {
						o := p*out + oy*w/2 + ox
						am[o] = int32((skip+p)*in + (2*oy+r.IntN(2))*w + 2*ox + r.IntN(2))
						dy[o] = float32(r.NormFloat64())
						if r.IntN(4) == 0 {
							dy[o] = specials[r.IntN(len(specials))]
						}
					}
				}
			}
			off := int32(skip * in)
			garbage := func() []float32 {
				d := make([]float32, planes*in+5)
				for i := range d {
					d[i] = 7
				}
				return d
			}
			for _, win := range [][2]float32{{-0.5, 0.5}, {0, nan}, {-inf, nan}} {
				for _, masked := range []bool{false, true} {
					want, got := garbage(), garbage()
					var p32 []float32
					if masked {
						p32 = pre
						poolBackwardMasked(am, dy, want[:planes*in], pre, win[0], win[1], off)
					} else {
						poolBackward(am, dy, want[:planes*in], off)
					}
					if !pool2Back32(am, dy, got[:planes*in], p32, w, off, win[0], win[1]) {
						t.Fatal("pool2Back32 declined with AVX2")
					}
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("w %d h %d planes %d masked %v window %v: dx[%d] = %v, the scatter gives %v", w, h, planes, masked, win, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
