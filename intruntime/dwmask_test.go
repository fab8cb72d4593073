package intruntime

import "testing"

// Hand-worked: a 4×4 plane of codes 1…16, zero point 100, the centre tap
// alone (weight 2) gives 2·code; the top-left tap alone (weight 1) gives
// the code up and left, 100 on the first row and column.
func TestDwMaskHandWorked(t *testing.T) {
	p := newDwMaskPlan(4, 4)
	src := makeBuf(16)
	for i := range src {
		src[i] = uint8(i + 1)
	}
	for _, c := range []struct {
		tap, weight int
		want        func(y, x int) int32
	}{
		{4, 2, func(y, x int) int32 { return 2 * int32(4*y+x+1) }},
		{0, 1, func(y, x int) int32 {
			if y == 0 || x == 0 {
				return 100
			}
			return int32(4*(y-1) + x)
		}},
	} {
		w := make([]int8, 9)
		w[c.tap] = int8(c.weight)
		got := make([]int32, 16)
		dwMaskScalar(got, src, 0, 1, p, w, 100)
		for i, g := range got {
			if want := c.want(i/4, i%4); g != want {
				t.Errorf("tap %d: output (%d, %d) %d, want %d", c.tap, i/4, i%4, g, want)
			}
		}
	}
}

// dwMaskScalar, the definition dwMaskY is tested against, writes the
// depthwise 3×3 sums of planes planes of p's geometry, back to back from
// src[off:], into acc: tap (ky, kx) of output (y, x) reads the code at
// (y + ky − 1, x + kx − 1), the zero point zx outside the plane.
func dwMaskScalar(acc []int32, src []uint8, off, planes int, p *dwMaskPlan, w []int8, zx uint8) {
	for i := range planes {
		plane := src[off+i*p.hw:][:p.hw]
		out := acc[i*p.hw:][:p.hw]
		for y := range p.h {
			for x := range p.w {
				var s int32
				for t := range 9 {
					yy, xx := y+t/3-1, x+t%3-1
					c := zx
					if yy >= 0 && yy < p.h && xx >= 0 && xx < p.w {
						c = plane[yy*p.w+xx]
					}
					s += int32(w[t]) * int32(c)
				}
				out[y*p.w+x] = s
			}
		}
	}
}
