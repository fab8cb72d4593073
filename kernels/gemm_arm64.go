package kernels

import "github.com/qatgo/qatgo/internal/cpufeat"

// floatKernelFor picks the float32 GEMM for an arm64 CPU with features f
// (NEON is part of every arm64 CPU Go runs on; QATGO_CPU=generic masks it).
func floatKernelFor(f cpufeat.Features) floatKernel {
	if f.NEON {
		return fkNEON
	}
	return fkGonum
}

//go:noescape
func sgemm4x32neon(kc int, a, b, c *float32, ldc int, alpha float32, acc int)

// kernelFull computes a full tile into C (row stride ldc): C += alpha·A·B when
// acc, else C = alpha·A·B. It panics (a programmer error) on panels or a C
// too short.
func kernelFull(fk floatKernel, kc int, a, b, c []float32, ldc int, alpha float32, acc bool) {
	if kc <= 0 {
		panic("kernels: microkernel: kc ≤ 0")
	}
	_, _, _ = a[kc*mr-1], b[kc*nr-1], c[(mr-1)*ldc+nr-1]
	ac := 0
	if acc {
		ac = 1
	}
	sgemm4x32neon(kc, &a[0], &b[0], &c[0], ldc, alpha, ac)
}

// kernelTile computes tile = A·B (a tile at C's edge, stored by storeTile).
func kernelTile(fk floatKernel, kc int, a, b []float32, tile *[mr * nr]float32) {
	kernelFull(fk, kc, a, b, tile[:], nr, 1, false)
}
