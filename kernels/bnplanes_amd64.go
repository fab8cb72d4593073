package kernels

// The batch norm's loops over all the planes of a channel in one assembly
// call (bnplanes_amd64.s): MobileNetV2's 4×4 and 7×7 planes spent most of
// their time in the per-plane calls (a 4×4 batch norm took 3.6x a 28×28
// one of the same size), not in the arithmetic.

//go:noescape
func sumsPlanesAVX2(x *float32, inner, stride, count int, k float32, out *[2]float64)

//go:noescape
func gradSumsPlanesAVX2(dy, y, x *float32, inner, stride, count int, k, lo, hi float32, masked int, out *[2]float64)

//go:noescape
func affineActPlanesAVX2(y, x *float32, inner, stride, count int, a, b, hi float32, clamp int, tail *[8]int32)

//go:noescape
func affine2PlanesAVX2(dx, dy, y, x *float32, inner, stride, count int, a, b, c, lo, hi float32, masked int, tail *[8]int32)

// planesOK checks that count planes of inner values stride apart lie in
// each slice, so that the assembly reads and writes nothing outside them.
func planesOK(inner, stride, count int, s ...[]float32) bool {
	if inner <= 0 || count <= 0 || stride < inner {
		return false
	}
	end := (count-1)*stride + inner
	for _, v := range s {
		if len(v) < end {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bnPlanesAVX2 are the loops of asmBn over count planes.
func bnPlanesAVX2() *bnPlanes[float32] {
	return &bnPlanes[float32]{
		sums: func(x []float32, inner, stride, count int, k float32) (s1, s2 float64) {
			if !planesOK(inner, stride, count, x) {
				panic("kernels: sumsPlanes out of range")
			}
			var out [2]float64
			sumsPlanesAVX2(&x[0], inner, stride, count, k, &out)
			return out[0], out[1]
		},
		gradSums: func(dy, y, x []float32, inner, stride, count int, k, lo, hi float32, masked bool) (sdy, sdyx float64) {
			if !masked {
				y = dy // not read
			}
			if !planesOK(inner, stride, count, dy, y, x) {
				panic("kernels: gradSumsPlanes out of range")
			}
			var out [2]float64
			gradSumsPlanesAVX2(&dy[0], &y[0], &x[0], inner, stride, count, k, lo, hi, b2i(masked), &out)
			return out[0], out[1]
		},
		affineAct: func(y, x []float32, inner, stride, count int, a, b, hi float32, clamp bool) {
			if !planesOK(inner, stride, count, y, x) {
				panic("kernels: affineActPlanes out of range")
			}
			tail := tailMask8(inner)
			affineActPlanesAVX2(&y[0], &x[0], inner, stride, count, a, b, hi, b2i(clamp), &tail)
		},
		affine2: func(dx, dy, y, x []float32, inner, stride, count int, a, b, c, lo, hi float32, masked bool) {
			if !masked {
				y = dy // not read
			}
			if !planesOK(inner, stride, count, dx, dy, y, x) {
				panic("kernels: affine2Planes out of range")
			}
			tail := tailMask8(inner)
			affine2PlanesAVX2(&dx[0], &dy[0], &y[0], &x[0], inner, stride, count, a, b, c, lo, hi, b2i(masked), &tail)
		},
	}
}
