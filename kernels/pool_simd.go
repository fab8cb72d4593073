//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// pairIdx holds the VPERMI2PS indices that pick the even (first row) and odd
// (second row) lanes of two concatenated vectors, and 2·lane.
var pairIdx = func() (t [3][16]uint32) {
	for i := uint32(0); i < 16; i++ {
		t[0][i], t[1][i], t[2][i] = 2*i, 2*i+1, 2*i
	}
	return t
}()

// pool2x2Fast is the 2×2, stride-2, unpadded max pool of float32 planes of
// even height and width (LeNet's), with the first maximum of each window in
// row-major order as its argmax, as poolForward. Two passes: the maximum of
// each horizontal pair over the whole tensor at once (pairs never straddle a
// row when w is even), 16 pairs per vector step; then, a row at a time, each
// output is the lower pair's maximum only where it is strictly greater than
// the upper one's, which keeps the row-major first maximum. On a CPU without AVX-512
// it reports false.
func pool2x2Fast(st *poolState, x, y []float32, planes, h, w int) bool {
	if !simdEnabled {
		return false
	}
	n := len(x) / 2
	st.pairMax = grow(st.pairMax, n)
	st.pairIdx = grow32(st.pairIdx, n)
	hm, hi := st.pairMax, st.pairIdx
	even := archsimd.LoadUint32x16(&pairIdx[0])
	odd := archsimd.LoadUint32x16(&pairIdx[1])
	ramp := archsimd.LoadUint32x16(&pairIdx[2]).AsInt32x16()
	one := archsimd.BroadcastInt32x16(1)
	k := 0
	for ; k+16 <= n; k += 16 {
		v0 := archsimd.LoadFloat32x16((*[16]float32)(x[2*k : 2*k+16]))
		v1 := archsimd.LoadFloat32x16((*[16]float32)(x[2*k+16 : 2*k+32]))
		a := v0.ConcatPermute(v1, even)
		b := v0.ConcatPermute(v1, odd)
		m := b.Greater(a)
		b.Merge(a, m).Store((*[16]float32)(hm[k : k+16]))
		archsimd.BroadcastInt32x16(int32(2 * k)).Add(ramp).Add(one.Masked(m)).Store((*[16]int32)(hi[k : k+16]))
	}
	for ; k < n; k++ {
		a, b := x[2*k], x[2*k+1]
		hm[k], hi[k] = a, int32(2*k)
		if b > a {
			hm[k], hi[k] = b, int32(2*k+1)
		}
	}
	oh, ow := h/2, w/2
	am := st.argmax
	for rp := 0; rp < planes*oh; rp++ {
		t := 2 * rp * ow
		top, bot := hm[t:t+ow], hm[t+ow:t+2*ow]
		ti, bi := hi[t:t+ow], hi[t+ow:t+2*ow]
		yr, ar := y[rp*ow:(rp+1)*ow], am[rp*ow:(rp+1)*ow]
		// Vector selects (LeNet's rows are 12 and 4 wide, so mostly
		// partial vectors): a scalar compare here is a branch that
		// mispredicts half the time on random data.
		for ox := 0; ox < ow; ox += 16 {
			e := min(ox+16, ow)
			tv := archsimd.LoadFloat32x16SlicePart(top[ox:e])
			bv := archsimd.LoadFloat32x16SlicePart(bot[ox:e])
			m := bv.Greater(tv)
			bv.Merge(tv, m).StoreSlicePart(yr[ox:e])
			archsimd.LoadInt32x16SlicePart(bi[ox:e]).Merge(archsimd.LoadInt32x16SlicePart(ti[ox:e]), m).StoreSlicePart(ar[ox:e])
		}
	}
	return true
}

func grow32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
