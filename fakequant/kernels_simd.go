//go:build goexperiment.simd && amd64

package fakequant

import (
	"simd/archsimd"
	"unsafe"
)

// useAVX512 reports whether the vector loop can run; on a CPU without
// AVX-512 every run takes the scalar loop.
var useAVX512 = archsimd.X86.AVX512()

// fq32 fake-quantizes one contiguous run with one channel's constants: 16
// values per AVX-512 step, the tail (and CPUs without AVX-512) by the scalar
// loop. Both compute the same float32 operations in the same order (multiply
// by 1/S, clamp to the window, round by the magic number, clamp to the grid,
// multiply by S), so the results are bit-identical; the vector loop ran at
// about a quarter of the scalar loop's time per element.
func fq32(dst []float32, mask []bool, src []float32, c seg32) {
	n := len(src) &^ 15
	if !useAVX512 || n == 0 {
		fq32Generic(dst, mask, src, c)
		return
	}
	dst = dst[:len(src)]
	if mask != nil {
		mask = mask[:len(src)]
		fq32Vec(dst[:n], mask[:n], src[:n], c)
		fq32Generic(dst[n:], mask[n:], src[n:], c)
		return
	}
	fq32Vec(dst[:n], nil, src[:n], c)
	fq32Generic(dst[n:], nil, src[n:], c)
}

// fq32Vec runs the vector loop over len(src), a multiple of 16.
func fq32Vec(dst []float32, mask []bool, src []float32, c seg32) {
	inv := archsimd.BroadcastFloat32x16(c.inv)
	s := archsimd.BroadcastFloat32x16(c.s)
	lo := archsimd.BroadcastFloat32x16(c.lo)
	hi := archsimd.BroadcastFloat32x16(c.hi)
	rlo := archsimd.BroadcastFloat32x16(c.rlo)
	rhi := archsimd.BroadcastFloat32x16(c.rhi)
	magic := archsimd.BroadcastFloat32x16(magic32)
	one := archsimd.BroadcastInt8x16(1)
	for i := 0; i+16 <= len(src); i += 16 {
		y := archsimd.LoadFloat32x16((*[16]float32)(src[i : i+16])).Mul(inv)
		// y where y >= lo, else lo: NaN fails the comparison and goes to
		// the bottom, as in the scalar loop.
		y = y.Merge(lo, y.GreaterEqual(lo)).Min(hi)
		r := y.Add(magic).Sub(magic)
		if mask != nil {
			in := r.GreaterEqual(rlo).And(r.LessEqual(rhi))
			// -1/0 per lane, narrowed to bytes and masked to the 1/0 of a bool.
			b := in.ToInt32x16().TruncateToInt8().And(one)
			b.Store((*[16]int8)(unsafe.Pointer(&mask[i])))
		}
		r.Max(rlo).Min(rhi).Mul(s).Store((*[16]float32)(dst[i : i+16]))
	}
}

// maskGrad32 is dst = g where mask, else 0: the straight-through gradient,
// 16 lanes at a time (the bool bytes widened to 32-bit lanes and compared
// with zero).
func maskGrad32(dst, g []float32, mask []bool) {
	n := len(g) &^ 15
	if !useAVX512 || n == 0 {
		maskGradGeneric(dst, g, mask)
		return
	}
	dst, mask = dst[:len(g)], mask[:len(g)]
	zero := archsimd.BroadcastUint32x16(0)
	for i := 0; i < n; i += 16 {
		m := archsimd.LoadUint8x16((*[16]uint8)(unsafe.Pointer(&mask[i]))).ExtendToUint32().NotEqual(zero)
		archsimd.LoadFloat32x16((*[16]float32)(g[i : i+16])).Masked(m).Store((*[16]float32)(dst[i : i+16]))
	}
	maskGradGeneric(dst[n:], g[n:], mask[n:])
}
