//go:build !(goexperiment.simd && amd64)

package intruntime

// simdKernel reports whether gemm uses the archsimd kernel (never in this
// build; build with GOEXPERIMENT=simd on amd64 for it).
const simdKernel = false

// vnniKernel reports whether gemm uses the AVX-512 VNNI kernels (never in
// this build).
const vnniKernel = false

// gemm computes C = A·B on the packed operands (see gemm.go).
func gemm(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	gemmPortable(c, ldc, a, b, ngroups)
}

// requantRow: see requantRowScalar.
func requantRow(out []uint8, row []int32, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	requantRowScalar(out, row, bias, m0, exp, zy, lo, hi)
}

// packQuad: see packQuadScalar.
func packQuad(dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int) {
	packQuadScalar(dst, k4, q, r0, r1, r2, r3, full)
}

// maxPairs: see maxPairsScalar.
func maxPairs(dst, src []uint8) { maxPairsScalar(dst, src) }

// packDirect: see packDirectScalar.
func packDirect(dst []byte, src []uint8, plan []packEntry, k4, G, hw, n, b0, nb int) {
	packDirectScalar(dst, src, plan, k4, G, hw, n, b0, nb)
}

// maxRowPairs32: see maxRowPairs32Scalar.
func maxRowPairs32(dst, src []int32, w int) { maxRowPairs32Scalar(dst, src, w) }

// maxPairs32: see maxPairs32Scalar.
func maxPairs32(dst, src []int32) { maxPairs32Scalar(dst, src) }
