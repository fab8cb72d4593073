package kernels

import "github.com/qatgo/qatgo/internal/cpufeat"

// The batch norm's loops over all the planes of a channel in one assembly
// call (bnplanes_amd64.s): MobileNetV2's 4×4 and 7×7 planes spent most of
// their time in the per-plane calls (a 4×4 batch norm took 3.6x a 28×28
// one of the same size), not in the arithmetic.

//go:noescape
func sumsPlanesAVX2(x *float32, inner, count int, k *float32, out *float64)

//go:noescape
func sumsExtPlanesAVX2(x *float32, inner, count int, k *float32, out *float64, ext *float32)

//go:noescape
func gradSumsPlanesAVX2(dy, x *float32, inner, count int, k *float32, out *float64)

//go:noescape
func affineActPlanesAVX2(y, x *float32, inner, count int, a, b *float32, hi float32, clamp int, tail *[8]int32, rng *[3][8]float32)

//go:noescape
func affine2PlanesAVX2(dx, dy, x *float32, inner, count int, abc *float32, tail *[8]int32)

//go:noescape
func affineAddActPlanesAVX2(y, x, r *float32, inner, count int, a, b *float32, hi float32, clamp int, tail *[8]int32)

//go:noescape
func affineFQAddPlanesAVX2(y, x, r *float32, inner, count int, a, b *float32, hi float32, tail *[8]int32, fq *[7][8]float32, rng *[3][8]float32)

//go:noescape
func affineFQAddPlanesAVX512(y, x, r *float32, inner, count int, a, b *float32, hi float32, fq *[6]float32, rng *[3][8]float32)

//go:noescape
func gradSumsRecPlanesAVX2(dy, x *float32, inner, count int, ya, yb *float32, chi float32, clamp int, k *float32, lo, hi float32, out *float64)

//go:noescape
func affine2RecPlanesAVX2(dx, dy, x *float32, inner, count int, ya, yb *float32, chi float32, clamp int, abc *float32, lo, hi float32, tail *[8]int32)

// planesOK checks that count planes of inner values lie in each slice and
// that the per-plane slices hold per values for each plane, so that the
// assembly reads and writes nothing outside them.
func planesOK(inner, count int, planes [][]float32, per int, params ...[]float32) bool {
	if inner <= 0 || count <= 0 {
		return false
	}
	for _, v := range planes {
		if len(v) < count*inner {
			return false
		}
	}
	for _, v := range params {
		if len(v) < count*per {
			return false
		}
	}
	return true
}

// fqRows broadcasts a quantizer's constants c = (s, 1/s, lo, hi, rlo, rhi)
// and the rounding constant 1.5·2²³ to 8 lanes each (FQMEM's operands).
func fqRows(c [6]float32) (k [7][8]float32) {
	for i, v := range append(c[:], 1.5*(1<<23)) {
		for l := range k[i] {
			k[i][l] = v
		}
	}
	return k
}

// useFQAdd512: BatchNormQuantAddAct's output loop 16 lanes at a time (the
// same bits as the AVX2 loop).
var useFQAdd512 = cpufeat.Host.AVX512

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bnPlanesAVX2 are the loops of asmBn over adjacent planes.
func bnPlanesAVX2() *bnPlanes[float32] {
	return &bnPlanes[float32]{
		sums: func(x []float32, inner, count int, k []float32, out []float64) {
			if !planesOK(inner, count, [][]float32{x}, 1, k) || len(out) < 2*count {
				panic("kernels: sumsPlanes out of range")
			}
			sumsPlanesAVX2(&x[0], inner, count, &k[0], &out[0])
		},
		sumsExt: func(x []float32, inner, count int, k []float32, out []float64, ext []float32) {
			if !planesOK(inner, count, [][]float32{x}, 1, k) || len(out) < 2*count || len(ext) < 2*count {
				panic("kernels: sumsExtPlanes out of range")
			}
			sumsExtPlanesAVX2(&x[0], inner, count, &k[0], &out[0], &ext[0])
		},
		gradSums: func(dy, x []float32, inner, count int, k []float32, out []float64) {
			if !planesOK(inner, count, [][]float32{dy, x}, 1, k) || len(out) < 2*count {
				panic("kernels: gradSumsPlanes out of range")
			}
			gradSumsPlanesAVX2(&dy[0], &x[0], inner, count, &k[0], &out[0])
		},
		affineAct: func(y, x []float32, inner, count int, a, b []float32, hi float32, clamp bool, rng *[3][8]float32) {
			var yp *float32 // nil y: the range alone
			if y != nil {
				if !planesOK(inner, count, [][]float32{y}, 1) {
					panic("kernels: affineActPlanes out of range")
				}
				yp = &y[0]
			}
			if !planesOK(inner, count, [][]float32{x}, 1, a, b) {
				panic("kernels: affineActPlanes out of range")
			}
			tail := tailMask8(inner)
			affineActPlanesAVX2(yp, &x[0], inner, count, &a[0], &b[0], hi, b2i(clamp), &tail, rng)
		},
		affineAdd: func(y, x, r []float32, inner, count int, a, b []float32, hi float32, clamp bool) {
			if !planesOK(inner, count, [][]float32{y, x, r}, 1, a, b) {
				panic("kernels: affineAddActPlanes out of range")
			}
			tail := tailMask8(inner)
			affineAddActPlanesAVX2(&y[0], &x[0], &r[0], inner, count, &a[0], &b[0], hi, b2i(clamp), &tail)
		},
		affineFQAdd: func(y, x, r []float32, inner, count int, a, b []float32, hi float32, fq *[6]float32, rng *[3][8]float32) {
			if !planesOK(inner, count, [][]float32{y, x, r}, 1, a, b) || rng == nil {
				panic("kernels: affineFQAddPlanes out of range")
			}
			if useFQAdd512 {
				affineFQAddPlanesAVX512(&y[0], &x[0], &r[0], inner, count, &a[0], &b[0], hi, fq, rng)
				return
			}
			tail := tailMask8(inner)
			if fq == nil {
				affineFQAddPlanesAVX2(&y[0], &x[0], &r[0], inner, count, &a[0], &b[0], hi, &tail, nil, rng)
				return
			}
			k := fqRows(*fq)
			affineFQAddPlanesAVX2(&y[0], &x[0], &r[0], inner, count, &a[0], &b[0], hi, &tail, &k, rng)
		},
		gradSumsRec: func(dy, x []float32, inner, count int, ya, yb []float32, chi float32, clamp bool, k []float32, lo, hi float32, out []float64) {
			if !planesOK(inner, count, [][]float32{dy, x}, 1, ya, yb, k) || len(out) < 2*count {
				panic("kernels: gradSumsRecPlanes out of range")
			}
			gradSumsRecPlanesAVX2(&dy[0], &x[0], inner, count, &ya[0], &yb[0], chi, b2i(clamp), &k[0], lo, hi, &out[0])
		},
		affine2Rec: func(dx, dy, x []float32, inner, count int, ya, yb []float32, chi float32, clamp bool, abc []float32, lo, hi float32) {
			if !planesOK(inner, count, [][]float32{dx, dy, x}, 1, ya, yb) || !planesOK(inner, count, nil, 3, abc) {
				panic("kernels: affine2RecPlanes out of range")
			}
			tail := tailMask8(inner)
			affine2RecPlanesAVX2(&dx[0], &dy[0], &x[0], inner, count, &ya[0], &yb[0], chi, b2i(clamp), &abc[0], lo, hi, &tail)
		},
		affine2: func(dx, dy, x []float32, inner, count int, abc []float32) {
			if !planesOK(inner, count, [][]float32{dx, dy, x}, 3, abc) {
				panic("kernels: affine2Planes out of range")
			}
			tail := tailMask8(inner)
			affine2PlanesAVX2(&dx[0], &dy[0], &x[0], inner, count, &abc[0], &tail)
		},
	}
}
