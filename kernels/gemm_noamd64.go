//go:build !amd64

package kernels

// The float GEMM's amd64-only paths, absent here: run and packPanel fall
// back to the tile store, the scalar transposes and im2col.

// kernelCols: no masked stores here; run uses kernelTile and storeTile.
func kernelCols(floatKernel, int, []float32, []float32, []float32, int, float32, bool, int) bool {
	return false
}

// kernelPair: no 8-row kernel here; run calls the 4-row one twice.
func kernelPair(floatKernel, int, []float32, []float32, []float32, []float32, int, float32, bool, int) bool {
	return false
}

// transpose16 is never called here (only for fkAVX512).
func transpose16(panel, x []float32, ld, r0, rows, pc, kc, w int) {
	panic("kernels: transpose16 without AVX-512")
}

// transpose8 is never called here (only for fkAVX2).
func transpose8(panel, x []float32, ld, r0, rows, pc, kc, w int) {
	panic("kernels: transpose8 without AVX2")
}

// transpose4: no vector form here; packPanel's loop packs every k.
func transpose4(panel, x []float32, ld, r0, pc, kc int) int { return 0 }

// packShiftAsm: no vector form here; packShift runs its Go loop.
func packShiftAsm(floatKernel, []float32, []float32, []int32, []int32, []uint32, int) bool {
	return false
}

// packSegAsm: no vector form here; packSeg runs its Go loop.
func packSegAsm(floatKernel, []float32, []float32, []int32, []segRun, int) bool { return false }

// packShiftTAsm: no vector form here; packShiftT runs its Go loop.
func packShiftTAsm(floatKernel, []float32, []float32, *shiftPlan, int, int, int, int) bool {
	return false
}

// implicitIm2col: convolutions unfold with im2col here (the Go packing loop
// is slower than im2col's block copies).
func implicitIm2col(floatKernel) bool { return false }

// segIm2col: likewise for the segment plans.
func segIm2col(floatKernel) bool { return false }

// implicitIm2colT: likewise for the weight gradient.
func implicitIm2colT(floatKernel) bool { return false }
