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
// kernelCols: no masked stores here; run uses kernelTile and storeTile.
func kernelCols(floatKernel, int, []float32, []float32, []float32, int, float32, bool, int) bool {
	return false
}

func kernelTile(fk floatKernel, kc int, a, b []float32, tile *[mr * nr]float32) {
	kernelFull(fk, kc, a, b, tile[:], nr, 1, false)
}

// transpose16 is never called here (only for fkAVX512).
func transpose16(panel, x []float32, ld, r0, rows, pc, kc, w int) {
	panic("kernels: transpose16 without AVX-512")
}

// transpose8 is never called here (only for fkAVX2).
func transpose8(panel, x []float32, ld, r0, rows, pc, kc, w int) {
	panic("kernels: transpose8 without AVX2")
}

// packShiftAsm: no vector form here; packShift runs its Go loop.
func packShiftAsm(floatKernel, []float32, []float32, []int32, []int32, []uint32, int) bool {
	return false
}

// packShiftTAsm: no vector form here; packShiftT runs its Go loop.
func packShiftTAsm(floatKernel, []float32, []float32, *shiftPlan, int, int, int, int) bool {
	return false
}

// implicitIm2col: convolutions unfold with im2col here (the Go packing loop
// is slower than im2col's block copies).
func implicitIm2col(floatKernel) bool { return false }

// implicitIm2colT: likewise for the weight gradient.
func implicitIm2colT(floatKernel) bool { return false }
