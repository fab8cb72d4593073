//go:build goexperiment.simd && amd64

package intruntime

import "simd/archsimd"

// vnniKernel reports whether gemm uses the AVX-512 VNNI assembly kernels
// (gemm_vnni_amd64.s): VPDPBUSD is one instruction per 64 multiply-adds
// and exact for any int8 weights, where the archsimd kernels need two
// (VPMADDUBSW, VPMADDWD) and an add, and twice that for 8-bit weights
// that could saturate VPMADDUBSW. archsimd (Go 1.26) has no VPDPBUSD.
var vnniKernel = simdKernel && archsimd.X86.AVX512VNNI()

//go:noescape
func vnni5x4(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)

//go:noescape
func vnni5x1(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)

// gemmVNNI computes C = A·B (see gemm.go) five rows at a time: four
// groups per micro-tile (20 accumulators), single groups for the rest.
// It panics (a programmer error) if c or b is too short for the call.
func gemmVNNI(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if ngroups == 0 {
		return
	}
	gs := a.k4 * blockSize
	_ = b[ngroups*gs-1]
	_ = c[(a.mpad-1)*ldc+ngroups*laneCols-1]
	if ldc < ngroups*laneCols || len(a.w5) != a.mpad*a.k4 || a.mpad%5 != 0 {
		panic("intruntime: gemmVNNI: bad operands")
	}
	n4 := ngroups / 4
	rest := ngroups - 4*n4
	for p := 0; p < a.mpad; p += 5 {
		w := &a.w5[p*a.k4]
		if n4 > 0 {
			vnni5x4(&c[p*ldc], ldc, w, &b[0], a.k4, gs, n4)
		}
		if rest > 0 {
			vnni5x1(&c[p*ldc+4*n4*laneCols], ldc, w, &b[4*n4*gs], a.k4, gs, rest)
		}
	}
}
