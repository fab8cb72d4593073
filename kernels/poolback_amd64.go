package kernels

//go:noescape
func pool2BackAVX2(dx, dy *float32, am *int32, pre *float32, rows, ow int, base int, lo, hi float32, masked int, idx *[4][8]int32)

// pool2Back32 is poolBackward (pre nil) or poolBackwardMasked of a 2×2
// stride-2 pool without padding on planes of even height and width w, by
// AVX2 loops over the row pairs of dx: each position of a window gets its
// dy where the window's maximum is, else +0 — the bits of the clear and
// scatter-add, in one pass (the masked scatter, a scalar loop, was a
// tenth of LeNet-5's QAT overhead); off is the index am gives dx[0].
// False (nothing done) without AVX2.
func pool2Back32(am []int32, dy, dx, pre []float32, w int, off int32, lo, hi float32) bool {
	if !useAVX2 || w < 2 || w%2 != 0 || len(dx)%(2*w) != 0 {
		return false
	}
	ow, rows := w/2, len(dx)/(2*w)
	if len(dy) != rows*ow || len(am) != rows*ow || (pre != nil && len(pre) < len(dx)) {
		panic("kernels: pool2Back32: dy, am or pre do not match dx")
	}
	if rows == 0 {
		return true
	}
	var idx [4][8]int32
	for l := range 8 {
		idx[0][l], idx[1][l] = int32(l/2), int32(l)
		if l < 2*(ow%4) {
			idx[2][l] = -1
		}
		if l < ow%4 {
			idx[3][l] = -1
		}
	}
	masked, p := 0, &dx[0]
	if pre != nil {
		masked, p = 1, &pre[0]
	}
	pool2BackAVX2(&dx[0], &dy[0], &am[0], p, rows, ow, int(off), lo, hi, masked, &idx)
	return true
}
