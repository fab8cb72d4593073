//go:build !amd64

package kernels

// asmClamp has vector loops on amd64 only.
func asmClamp() (fwd func(y, x []float32, hi float32), grad func(dx, x, dy []float32, hi float32), ok bool) {
	return nil, nil, false
}

// asmDw has vector loops on amd64 only.
func asmDw() (dwKernels[float32], bool) { return dwKernels[float32]{}, false }

// asmBn has vector loops on amd64 only.
func asmBn() (bnKernels[float32], bool) { return bnKernels[float32]{}, false }

// asmAddRow has a vector loop on amd64 only.
func asmAddRow() (func(d, s []float32), bool) { return nil, false }

// sumBiasFast has vector loops on amd64 only.
func sumBiasFast(db, dy []float32, outer, inner int) bool { return false }

// pool2x2Fast has vector loops on amd64 only.
func pool2x2Fast(st *poolState, x, y, pre []float32, win *poolWindow, fq *[6]float32, lo, hi, h, w int) {
}

// pool2x2AVX2 has its loop on amd64 only.
func pool2x2AVX2[T float](*poolState, []T, []T, int, int, int, int) bool { return false }

// usePool2x2Fast: no vector loops here.
func usePool2x2Fast() bool { return false }

// copyPanel32 has a vector loop on amd64 only.
func copyPanel32(panel, src []float32, ld, kc int) bool { return false }

// windowGrad32 is windowGradGeneric.
func windowGrad32(dx, y, dy []float32, lo, hi float32) { windowGradGeneric(dx, y, dy, lo, hi) }

// add32 is addGeneric.
func add32(y, a, b []float32) { addGeneric(y, a, b) }

// addClamp32 is addClampGeneric.
func addClamp32(y, a, b []float32, hi float32) { addClampGeneric(y, a, b, hi) }

// copyRowsTo32 has no vector loop here.
func copyRowsTo32(dst, src []float32, rows, n, pitch int) bool { return false }

// fill32 is fillGeneric.
func fill32(dst []float32, v float32) { fillGeneric(dst, v) }

// addRows32 has no vector loop here.
func addRows32(dst, src []float32, rows, n, pitch int) bool { return false }

// copyRows32 has no vector loop here.
func copyRows32(dst, src []float32, rows, n, pitch int) bool { return false }

// useRows32: no vector plane moves here.
const useRows32 = false

func copyRowsAVX2(dst, src *float32, rows, n, dpitch, spitch int, tail *[8]int32) {
	panic("kernels: copyRowsAVX2 without amd64")
}

func deint2RowsAVX2(e, o, src *float32, rows, n, epitch, spitch int, masks *[4][8]int32) {
	panic("kernels: deint2RowsAVX2 without amd64")
}

func inter2RowsAVX2(dst, e, o *float32, rows, n, dpitch, epitch int, masks *[4][8]int32) {
	panic("kernels: inter2RowsAVX2 without amd64")
}

func tailMask8(n int) (m [8]int32) { return m }

func rowMasks2(n int) (m [4][8]int32) { return m }

// pool2Back32: no vector loop here; poolScatter runs the Go loops.
func pool2Back32(am []int32, dy, dx, pre []float32, w int, off int32, lo, hi float32) bool {
	return false
}

func gather2Rows32(dst, src []float32, rows, n, dpitch, spitch int) {
	panic("kernels: gather2Rows32 without amd64")
}

func scatter2AddRows32(dst, src []float32, rows, n, dpitch, spitch int) {
	panic("kernels: scatter2AddRows32 without amd64")
}

// im2col2 has no vector loop here.
func im2col2(col, x []float32, g geom) bool { return false }

// col2im2 has no vector loop here.
func col2im2(dx, col []float32, g geom) bool { return false }

// useStride2Rows: no stride-2 vector loops here.
const useStride2Rows = false

// prefetch32 does nothing here.
func prefetch32([]float32) {}

// foldQuantizeVec has a vector loop on amd64 only.
func foldQuantizeVec(dst, src []float32, c *[6]float32) int { return 0 }
