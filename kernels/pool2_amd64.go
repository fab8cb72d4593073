package kernels

//go:noescape
func pool2x2RowsAVX2(x, y *float32, am *int32, rows, ow, nv, base int, lanes *[8]int32)

// pool2Lanes are the eight outputs' first floats, from a vector's first.
var pool2Lanes = [8]int32{0, 2, 4, 6, 8, 10, 12, 14}

// pool2x2AVX2 is poolPlanes for the 2×2 stride-2 pool without padding of
// float32 planes lo..hi−1 (h and w even) by the AVX2 loop (poolPlanes in
// Go, which tracks each output's index by conditional moves, was 17% of
// LeNet-5's FP32 inference on a Zen 3 core): a row's last vector runs on
// into the next rows' outputs, written after; the last rows, with too
// little after them, whole vectors and the Go loop. False (nothing done)
// where the loop does not apply.
func pool2x2AVX2[T float](st *poolState, x, y []T, lo, hi, h, w int) bool {
	x32, ok := any(x).([]float32)
	if !ok || !useAVX2 || st.k != [2]int{2, 2} || st.s != [2]int{2, 2} || st.p != [2]int{} || h%2 != 0 || w%2 != 0 {
		return false
	}
	y32 := any(y).([]float32)
	oh, ow := h/2, w/2
	rows := (hi - lo) * oh
	if rows == 0 || ow == 0 {
		return true
	}
	r0 := lo * oh
	xs, yr, am := x32[lo*h*w:hi*h*w], y32[r0*ow:(r0+rows)*ow], st.argmax[r0*ow:(r0+rows)*ow]
	base := lo * h * w
	// The first qa rows a whole number of vectors each: their last vector
	// runs on into later rows' outputs (and row pairs), all inside this
	// call's planes and written after; the rest whole vectors, then Go.
	nv, qa := (ow+7)/8, 0
	if rows*ow >= 8*nv {
		qa = min(rows, (rows*ow-8*nv)/ow+1)
	}
	if qa > 0 {
		pool2x2RowsAVX2(&xs[0], &yr[0], &am[0], qa, ow, nv, base, &pool2Lanes)
	}
	for q := qa; q < rows; q++ {
		if full := ow / 8; full > 0 {
			pool2x2RowsAVX2(&xs[q*2*w], &yr[q*ow], &am[q*ow], 1, ow, full, base+q*2*w, &pool2Lanes)
		}
		for ox := ow &^ 7; ox < ow; ox++ {
			i := q*2*w + 2*ox
			best, bi := max2x2(xs, i, i+w)
			yr[q*ow+ox], am[q*ow+ox] = best, int32(base)+bi
		}
	}
	return true
}
