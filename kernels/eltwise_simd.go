//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// vecRelu6 gives ReLU6 its AVX-512 loops, unless the CPU lacks AVX-512.
func vecRelu6() (fwd func(y, x []float32), grad func(dx, x, dy []float32), ok bool) {
	return relu6x16, relu6Grad16, simdEnabled
}

// relu6x16 is relu6Generic 16 lanes at a time; VMAXPS and VMINPS return
// their second operand for a NaN, so NaN lanes are put back from x.
func relu6x16(y, x []float32) {
	y = y[:len(x)]
	zero, six := archsimd.BroadcastFloat32x16(0), archsimd.BroadcastFloat32x16(6)
	for len(x) >= 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(x[:16]))
		v.Merge(v.Max(zero).Min(six), v.IsNaN()).Store((*[16]float32)(y[:16]))
		x, y = x[16:], y[16:]
	}
	if len(x) > 0 {
		v := archsimd.LoadFloat32x16SlicePart(x)
		v.Merge(v.Max(zero).Min(six), v.IsNaN()).StoreSlicePart(y)
	}
}

// relu6Grad16 is relu6GradGeneric 16 lanes at a time.
func relu6Grad16(dx, x, dy []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	zero, six := archsimd.BroadcastFloat32x16(0), archsimd.BroadcastFloat32x16(6)
	for len(x) >= 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(x[:16]))
		m := v.Greater(zero).And(v.Less(six))
		archsimd.LoadFloat32x16((*[16]float32)(dy[:16])).Masked(m).Store((*[16]float32)(dx[:16]))
		x, dx, dy = x[16:], dx[16:], dy[16:]
	}
	if len(x) > 0 {
		v := archsimd.LoadFloat32x16SlicePart(x)
		m := v.Greater(zero).And(v.Less(six))
		archsimd.LoadFloat32x16SlicePart(dy).Masked(m).StoreSlicePart(dx)
	}
}
