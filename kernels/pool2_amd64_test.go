package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// TestPool2x2AVX2SameBits: the AVX2 2×2 max pool gives poolPlanes' maxima
// (bit for bit; NaN where it gives NaN) and indices on planes of every
// row width from 1 to 20 outputs and 35, over plane ranges that start
// past 0, with ties, ±0, ±Inf and NaN.
func TestPool2x2AVX2SameBits(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(71, 72))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0.5, 1}
	for ow := 1; ow <= 36; ow++ {
		if ow > 20 && ow != 35 {
			continue
		}
		for _, oh := range []int{1, 3} {
			planes, lo, hi := 5, 1, 4
			h, w := 2*oh, 2*ow
			xs := tensor.Shape{1, planes, h, w}
			os := tensor.Shape{1, planes, oh, ow}
			x := make([]float32, planes*h*w)
			for i := range x {
				if r.IntN(4) == 0 {
					x[i] = special[r.IntN(len(special))]
				} else {
					x[i] = float32(r.IntN(6)) * 0.5
				}
			}
			want := &poolState{k: [2]int{2, 2}, s: [2]int{2, 2}, argmax: make([]int32, os.TotalSize())}
			got := &poolState{k: [2]int{2, 2}, s: [2]int{2, 2}, argmax: make([]int32, os.TotalSize())}
			yw, yg := make([]float32, os.TotalSize()), make([]float32, os.TotalSize())
			for i := range yw {
				yw[i], yg[i] = 7, 7
				want.argmax[i], got.argmax[i] = -5, -5
			}
			poolPlanes(want, x, yw, xs, os, lo, hi)
			if !pool2x2AVX2(got, x, yg, lo, hi, h, w) {
				t.Fatal("the AVX2 pool did not run")
			}
			what := fmt.Sprintf("ow %d oh %d", ow, oh)
			for i := range yw {
				nan := yw[i] != yw[i] && yg[i] != yg[i]
				if (!nan && math.Float32bits(yw[i]) != math.Float32bits(yg[i])) || want.argmax[i] != got.argmax[i] {
					t.Fatalf("%s: output %d = %v at %d, want %v at %d", what, i, yg[i], got.argmax[i], yw[i], want.argmax[i])
				}
			}
		}
	}
}
