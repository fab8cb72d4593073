package intruntime

import "github.com/qatgo/qatgo/internal/cpufeat"

// implFor picks the arm64 kernels for a CPU with features f: the SDOT
// assembly GEMM where the CPU has the dot-product extension (ARMv8.2
// DotProd: Apple M1 and later, Graviton 2 and later, Cortex-A76/A55 and
// later), else the portable Go one.
func implFor(f cpufeat.Features) impl {
	im := portableImpl()
	if f.DotProd {
		im.kern = kernDot
	}
	return im
}

// gemmArch runs the arm64 kernel a was packed for.
func gemmArch(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if a.kern == kernDot {
		gemmDot(c, ldc, a, b, ngroups)
		return
	}
	gemmPortable(c, ldc, a, b, ngroups)
}

//go:noescape
func dot5x1(c *int32, ldc int, w *int32, corr *int32, b *byte, k4, gs, n int)

// gemmDot computes C = A·B (see gemm.go) five rows and one group at a
// time with SDOT on flipped codes (gemm_arm64.s). It panics (a programmer
// error) if c or b is too short for the call.
func gemmDot(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if ngroups == 0 {
		return
	}
	gs := a.k4 * blockSize
	_ = b[ngroups*gs-1]
	_ = c[(a.mpad-1)*ldc+ngroups*laneCols-1]
	if ldc < ngroups*laneCols || len(a.w5) != a.mpad*a.k4 || len(a.corr) != a.mpad || a.mpad%5 != 0 || a.k4 == 0 {
		panic("intruntime: gemmDot: bad operands")
	}
	for p := 0; p < a.mpad; p += 5 {
		dot5x1(&c[p*ldc], ldc, &a.w5[p*a.k4], &a.corr[p], &b[0], a.k4, gs, ngroups)
	}
}
