//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// vecBnKernels gives the batch norm its AVX-512 loops, unless the CPU lacks
// AVX-512.
func vecBnKernels() (bnKernels[float32], bool) {
	return bnKernels[float32]{sums: sums16, gradSums: gradSums16, affine: affine16, affine2: affine2x16}, simdEnabled
}

// sums16 is sumsGeneric with 16-lane partial sums (the masked-off lanes of
// the tail load are 0 and so is their x − k after masking).
func sums16(x []float32, k float32) (s1, s2 float64) {
	kv := archsimd.BroadcastFloat32x16(k)
	var a, b archsimd.Float32x16
	for len(x) >= 16 {
		d := archsimd.LoadFloat32x16((*[16]float32)(x[:16])).Sub(kv)
		a = a.Add(d)
		b = d.MulAdd(d, b)
		x = x[16:]
	}
	if len(x) > 0 {
		m := tailMask(len(x))
		d := archsimd.LoadMaskedFloat32x16(part16(x), m).Sub(kv).Masked(m)
		a = a.Add(d)
		b = d.MulAdd(d, b)
	}
	return float64(hsum16(a)), float64(hsum16(b))
}

// gradSums16 is gradSumsGeneric with 16-lane partial sums.
func gradSums16(dy, x []float32, k float32) (sdy, sdyx float64) {
	x = x[:len(dy)]
	kv := archsimd.BroadcastFloat32x16(k)
	var a, b archsimd.Float32x16
	for len(dy) >= 16 {
		g := archsimd.LoadFloat32x16((*[16]float32)(dy[:16]))
		a = a.Add(g)
		b = g.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(x[:16])).Sub(kv), b)
		dy, x = dy[16:], x[16:]
	}
	if len(dy) > 0 {
		m := tailMask(len(dy))
		g := archsimd.LoadMaskedFloat32x16(part16(dy), m)
		a = a.Add(g)
		b = g.MulAdd(archsimd.LoadMaskedFloat32x16(part16(x), m).Sub(kv), b)
	}
	return float64(hsum16(a)), float64(hsum16(b))
}

// affine16 is affineGeneric 16 lanes at a time.
func affine16(y, x []float32, a, b float32) {
	y = y[:len(x)]
	av, bv := archsimd.BroadcastFloat32x16(a), archsimd.BroadcastFloat32x16(b)
	for len(x) >= 16 {
		av.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(x[:16])), bv).Store((*[16]float32)(y[:16]))
		x, y = x[16:], y[16:]
	}
	if len(x) > 0 {
		m := tailMask(len(x))
		av.MulAdd(archsimd.LoadMaskedFloat32x16(part16(x), m), bv).StoreMasked(part16(y), m)
	}
}

// affine2x16 is affine2Generic 16 lanes at a time.
func affine2x16(dx, dy, x []float32, a, b, c float32) {
	dx, x = dx[:len(dy)], x[:len(dy)]
	av, bv, cv := archsimd.BroadcastFloat32x16(a), archsimd.BroadcastFloat32x16(b), archsimd.BroadcastFloat32x16(c)
	for len(dy) >= 16 {
		t := bv.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(x[:16])), cv)
		av.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(dy[:16])), t).Store((*[16]float32)(dx[:16]))
		dx, dy, x = dx[16:], dy[16:], x[16:]
	}
	if len(dy) > 0 {
		m := tailMask(len(dy))
		t := bv.MulAdd(archsimd.LoadMaskedFloat32x16(part16(x), m), cv)
		av.MulAdd(archsimd.LoadMaskedFloat32x16(part16(dy), m), t).StoreMasked(part16(dx), m)
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
