//go:build goexperiment.simd && amd64

package nn

import "simd/archsimd"

var useAVX512 = archsimd.X86.AVX512()

// minMax is minMaxGeneric with an AVX-512 loop over the bulk: 16 lanes of
// min and max, and v-v summed to detect non-finite values (min and max of a
// NaN depend on operand order, so they are not trusted for that).
func minMax(x []float32) (lo, hi float32, finite bool) {
	n := len(x) &^ 15
	if !useAVX512 || n == 0 {
		return minMaxGeneric(x)
	}
	first := archsimd.LoadFloat32x16((*[16]float32)(x[0:16]))
	l, h := first, first
	z := first.Sub(first)
	for i := 16; i < n; i += 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(x[i : i+16]))
		l = l.Min(v)
		h = h.Max(v)
		z = z.Add(v.Sub(v))
	}
	var ls, hs, zs [16]float32
	l.Store(&ls)
	h.Store(&hs)
	z.Store(&zs)
	lo, hi = ls[0], hs[0]
	var zsum float32
	for i := range ls {
		lo, hi = min(lo, ls[i]), max(hi, hs[i])
		zsum += zs[i]
	}
	tl, th, tf := minMaxGeneric(x[n:])
	if n < len(x) {
		lo, hi = min(lo, tl), max(hi, th)
	}
	return lo, hi, zsum == 0 && tf
}
