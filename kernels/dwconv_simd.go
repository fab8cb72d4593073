//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// vecDwKernels gives the depthwise convolution its AVX-512 loops, unless the
// CPU lacks AVX-512.
func vecDwKernels() (dwKernels[float32], bool) {
	return dwKernels[float32]{corr: corr16, axpy: axpy16, dots: dots16}, simdEnabled
}

// corr16 is corrGeneric 16 outputs at a time, the sum kept in a register
// across the taps.
func corr16(out, in []float32, offs []int, w []float32, init float32) {
	n := len(out)
	w = w[:len(offs)]
	iv := archsimd.BroadcastFloat32x16(init)
	k := 0
	for ; k+16 <= n; k += 16 {
		acc := iv
		for t, off := range offs {
			acc = archsimd.BroadcastFloat32x16(w[t]).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(in[off+k:off+k+16])), acc)
		}
		acc.Store((*[16]float32)(out[k : k+16]))
	}
	if k < n {
		acc := iv
		for t, off := range offs {
			acc = archsimd.BroadcastFloat32x16(w[t]).MulAdd(archsimd.LoadFloat32x16SlicePart(in[off+k:off+n]), acc)
		}
		acc.StoreSlicePart(out[k:n])
	}
}

// axpy16 adds a·src into dst, 16 floats per vector.
func axpy16(dst, src []float32, a float32) {
	dst = dst[:len(src)]
	av := archsimd.BroadcastFloat32x16(a)
	for len(src) >= 16 {
		dp := (*[16]float32)(dst[:16])
		av.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(src[:16])), archsimd.LoadFloat32x16(dp)).Store(dp)
		dst, src = dst[16:], src[16:]
	}
	if len(src) > 0 {
		av.MulAdd(archsimd.LoadFloat32x16SlicePart(src), archsimd.LoadFloat32x16SlicePart(dst)).StoreSlicePart(dst)
	}
}

// dots16 is dotsGeneric with 16-lane partial sums, four taps per pass over
// dy so that each dy vector is loaded once for four products.
func dots16(dst, dy, in []float32, offs []int) {
	n := len(dy)
	dst = dst[:len(offs)]
	t := 0
	for ; t+4 <= len(offs); t += 4 {
		o0, o1, o2, o3 := offs[t], offs[t+1], offs[t+2], offs[t+3]
		var a0, a1, a2, a3 archsimd.Float32x16
		k := 0
		for ; k+16 <= n; k += 16 {
			d := archsimd.LoadFloat32x16((*[16]float32)(dy[k : k+16]))
			a0 = d.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(in[o0+k:o0+k+16])), a0)
			a1 = d.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(in[o1+k:o1+k+16])), a1)
			a2 = d.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(in[o2+k:o2+k+16])), a2)
			a3 = d.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(in[o3+k:o3+k+16])), a3)
		}
		if k < n {
			d := archsimd.LoadFloat32x16SlicePart(dy[k:n])
			a0 = d.MulAdd(archsimd.LoadFloat32x16SlicePart(in[o0+k:o0+n]), a0)
			a1 = d.MulAdd(archsimd.LoadFloat32x16SlicePart(in[o1+k:o1+n]), a1)
			a2 = d.MulAdd(archsimd.LoadFloat32x16SlicePart(in[o2+k:o2+n]), a2)
			a3 = d.MulAdd(archsimd.LoadFloat32x16SlicePart(in[o3+k:o3+n]), a3)
		}
		dst[t] += hsum16(a0)
		dst[t+1] += hsum16(a1)
		dst[t+2] += hsum16(a2)
		dst[t+3] += hsum16(a3)
	}
	for ; t < len(offs); t++ {
		off := offs[t]
		var a archsimd.Float32x16
		k := 0
		for ; k+16 <= n; k += 16 {
			a = archsimd.LoadFloat32x16((*[16]float32)(dy[k:k+16])).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(in[off+k:off+k+16])), a)
		}
		if k < n {
			a = archsimd.LoadFloat32x16SlicePart(dy[k:n]).MulAdd(archsimd.LoadFloat32x16SlicePart(in[off+k:off+n]), a)
		}
		dst[t] += hsum16(a)
	}
}

// hsum16 is the sum of v's lanes.
func hsum16(v archsimd.Float32x16) float32 {
	var p [16]float32
	v.Store(&p)
	var s float32
	for _, x := range p {
		s += x
	}
	return s
}
