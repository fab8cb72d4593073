//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"
)

// vecClamp gives ReLU and ReLU6 their AVX-512 loops, unless the CPU lacks
// AVX-512.
func vecClamp() (fwd func(y, x []float32, hi float32), grad func(dx, x, dy []float32, hi float32), ok bool) {
	return clamp16, clampGrad16, simdEnabled
}

// clamp16 is clampGeneric 16 lanes at a time; VMAXPS and VMINPS return
// their second operand for a NaN, so NaN lanes are put back from x.
func clamp16(y, x []float32, hi float32) {
	y = y[:len(x)]
	zero, h := archsimd.BroadcastFloat32x16(0), archsimd.BroadcastFloat32x16(hi)
	for len(x) >= 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(x[:16]))
		v.Merge(v.Max(zero).Min(h), v.IsNaN()).Store((*[16]float32)(y[:16]))
		x, y = x[16:], y[16:]
	}
	if len(x) > 0 {
		m := tailMask(len(x))
		v := archsimd.LoadMaskedFloat32x16(part16(x), m)
		v.Merge(v.Max(zero).Min(h), v.IsNaN()).StoreMasked(part16(y), m)
	}
}

// clampGrad16 is clampGradGeneric 16 lanes at a time.
func clampGrad16(dx, x, dy []float32, hi float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	zero, h := archsimd.BroadcastFloat32x16(0), archsimd.BroadcastFloat32x16(hi)
	inf := math.IsInf(float64(hi), 1)
	pass := func(v archsimd.Float32x16) archsimd.Mask32x16 {
		if inf {
			return v.Greater(zero)
		}
		return v.Greater(zero).And(v.Less(h))
	}
	for len(x) >= 16 {
		m := pass(archsimd.LoadFloat32x16((*[16]float32)(x[:16])))
		archsimd.LoadFloat32x16((*[16]float32)(dy[:16])).Masked(m).Store((*[16]float32)(dx[:16]))
		x, dx, dy = x[16:], dx[16:], dy[16:]
	}
	if len(x) > 0 {
		t := tailMask(len(x))
		m := pass(archsimd.LoadMaskedFloat32x16(part16(x), t))
		archsimd.LoadMaskedFloat32x16(part16(dy), t).Masked(m).StoreMasked(part16(dx), t)
	}
}
