package intruntime

import "github.com/qatgo/qatgo/internal/cpufeat"

// One dispatch point per kernel family: implFor picks, from the CPU's
// features (cpufeat.Host, which QATGO_CPU can lower), the int8 GEMM
// kernel and the helpers around it; every choice gives the same bits as
// the portable Go code (tested for each variant the CPU can run).

// int8Kernel names an int8 GEMM implementation. Weights are packed for one
// (packWeightsFor) and gemm runs the one they were packed for.
type int8Kernel uint8

const (
	kernPortable int8Kernel = iota // plain Go, any CPU
	kernAVX2                       // Go assembly, VPMADDUBSW + VPMADDWD on ymm
	kernAVX512BW                   // simd/archsimd (GOEXPERIMENT=simd builds), the same on zmm
	kernVNNI                       // Go assembly, AVX512-VNNI VPDPBUSD on zmm
	kernDot                        // Go assembly, arm64 SDOT on codes flipped to signed
	kernAVXVNNI                    // Go assembly, AVX-VNNI VPDPBUSD (VEX) on ymm
	kernAMX                        // Go assembly, AMX-INT8 TDPBSUD on 16×64-byte tiles
)

func (k int8Kernel) String() string {
	return [...]string{"portable", "avx2", "avx512bw", "avx512vnni", "dotprod", "avxvnni", "amx"}[k]
}

// pairs reports whether k multiplies with VPMADDUBSW, whose saturating
// int16 pair sums need weights split in halves unless proven safe.
func (k int8Kernel) pairs() bool { return k == kernAVX2 || k == kernAVX512BW }

// impl is the set of kernels one feature set selects.
type impl struct {
	kern        int8Kernel
	directPack  func(*packPlan) bool // whether a planned convolution packs by packDirect (else im2col rows + packQuad)
	requantRows func(out []uint8, outStride int, row []int32, rowStride, count, width int, bias int64, m0 int32, exp uint, zy, lo, hi int32)
	// requantPre is requantRows on operands a step set per channel when
	// it was planned (step.rq); nil: requantRows.
	requantPre    func(out []uint8, outStride int, row []int32, rowStride, count, width int, c *requantScalars)
	packQuad      func(dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int)
	maxPairs      func(dst, src []uint8)
	packDirect    func(dst []byte, src []uint8, plan *packPlan, k4, G, hw, n, b0, nb int)
	maxRowPairs32 func(dst, src []int32, w int)
	maxPairs32    func(dst, src []int32)
	copyRows      func(dst, src []uint8, planes, rows, w, srcStride, planeStride int)
	packFlatGroup func(blocks []byte, src []uint8, f *flatPack, n, lanes int)       // packFlatGroupScalar
	dwFlat3x3     func(acc []int32, frame []uint8, w *[9]int32, Wp int, q []uint32) // q: scratch of dwQuadsFor values
	// dwMask: see dwMaskY; nil where stride-1 depthwise 3×3 layers take
	// frames and dwFlat3x3.
	dwMask func(acc []int32, src []uint8, off, planes int, p *dwMaskPlan, wp *[5]uint32, zx uint8, guard []uint8)
	// stem: see stemY; nil where convolutions of few taps take the GEMM.
	stem        func(out []uint8, outStride, outRow int, frames []uint8, p *stemPlan, rq []requantScalars)
	lookupPairs func(dst, a, b, lut []uint8)
	// addPairs is lookupPairs on the add's table computed from its two
	// input tables and output operands (addPerm); nil: lookupPairs.
	addPairs func(dst, a, b []uint8, p *addPerm, lut []uint8)
	// addLin is addLinearScalar on an add fitted as one (addLinear), any
	// tail looked up in lut; nil: addPairs or lookupPairs.
	addLin      func(dst, a, b []uint8, p *addLinear, lut []uint8)
	quantizeRow func(dst []uint8, src []float32, inv float32, z, lo, hi int32)
	poolFlat32  func(dst, src []int32, rows, w, stride int) // nil: maxRowPairs32 and maxPairs32 on contiguous rows
	// poolFlatCh is poolFlat32 on planes planes srcPlane apart in src,
	// pooled back to back in dst; nil: one call per plane.
	poolFlatCh func(dst, src []int32, rows, w, stride, planes, srcPlane int)
	frameRows  func(dst, src []uint8, rows, w, dstStride, planes, dstPlane int)
	pickRows32 func(dst, src []int32, rows, w, srcStride, step, planes, srcPlane int)
	// pickBytes2: see pickBytes2Scalar; nil: im2col's row loop.
	pickBytes2 func(dst, src []uint8, rows, w, srcStride, planes, srcPlane int)
	quadRows   func(dst []uint32, src []uint8, chStride, rows, w, dstStride, copies, copyStride int)
	// framePlanes: see framePlanesScalar; nil where fill and frameRows
	// build the frames instead.
	framePlanes func(dst, src []uint8, masks []uint64, zx uint8)
	// requantFlat: see requantFlatScalar; nil, or false from it, where
	// the rows are requantized one by one instead.
	requantFlat func(out []uint8, row []int32, masks []uint16, bias int64, m0 int32, exp uint, zy, lo, hi int32) bool
	// requantFlatPre is requantFlat on a channel's planned operands
	// (step.rq), for masks that select n positions; nil: requantFlat.
	requantFlatPre func(out []uint8, row []int32, masks []uint16, n int, c *requantScalars)
	// requantFlatCh and requantRowsCh are requantFlatPre and requantPre
	// on every channel of rq at once (rows ldc int32s apart in acc,
	// outputs outStride bytes apart in out; requantRowsCh's rows outRow
	// bytes apart), all of whose kernel() is kind; nil: one call per
	// channel.
	requantFlatCh func(out []uint8, outStride int, acc []int32, ldc int, masks []uint16, n int, rq []requantScalars, kind int)
	requantRowsCh func(out []uint8, outStride, outRow int, acc []int32, ldc, rows, w, rowStride int, rq []requantScalars, kind int)
	// dw3x3s2 computes a stride-2 depthwise 3×3 plane's outputs only
	// (graph.go); nil, or false from it, where the flat stride-1 pass
	// and a pick of every other output run instead.
	dw3x3s2 func(acc []int32, frame []uint8, w *[9]int32, Wp, oh, ow int, q []uint32, images, plane int) bool
	// packPointwise packs a 1×1 convolution's operand straight from its
	// k input rows (rowStride bytes apart, n columns each) group by group,
	// and reports whether it did (nil, or false: packQuad quad by quad).
	packPointwise func(dst []byte, src []uint8, rowStride, k, n int) bool
	// dwPermQuad is dwPerm on channels in quads with relu8
	// requantization, its outputs quad-interleaved (quadIndex) for the 1×1
	// convolution after it; false where it does not apply. packQuadIn is
	// that convolution's operand packing from them (a copy of blocks).
	// Both nil where the CPU has no such kernels.
	dwPermQuad func(dst, src []uint8, pl *dwPermPlan, images, chIn, quadN int, rq []requantScalars, kind int, zx uint8) bool
	packQuadIn func(dst []byte, src []uint8, k4, total, p0, n int)
	// gemmRequant is the GEMM with the requantization of its rows (kernel
	// kind) in its epilogue (gemmVNNIRequant): row m's n codes at
	// out[m·chOut:]; false, with nothing done, where it does not apply.
	// nil where the CPU has none.
	gemmRequant func(out []uint8, chOut int, a *packedWeights, b []byte, ngroups, n int, rq []requantScalars, kind int) bool
	// sumPlanes: see sumPlanes (graph.go).
	sumPlanes func(sums []int32, src []uint8, hw int)
	// dwPerm runs a depthwise 3×3 straight from its input planes (rows
	// of at most 62 codes), requantized (graph.go, dwPermPlan); nil where
	// the CPU has no byte permutes and VPDPBUSD.
	dwPerm  func(dst, src []uint8, pl *dwPermPlan, images, chIn, chOut int, rq []requantScalars, kind int, zx uint8)
	tapGemm func(acc []int32, ldc int, p *tapPlan, q []uint32) // nil: no tap convolutions (tapconv.go)
	// wg: the Winograd F(2×2, 3×3) and F(4×4, 3×3) passes (winograd.go);
	// gemm nil where stride-1 3×3 convolutions take the direct kernels.
	wg wgKernels
	// tapSingle: tapGemm reads one quad plane per channel quad, each tap
	// at its own offset (tapPlan.w1, offs1), not the row planes with
	// their kw shifted copies (tapPlan.w, offs; tapGemmPortable).
	tapSingle bool
	// tapNarrow: a planned convolution narrower than tapMinWidth that
	// also has a direct packing takes tapGemm where the flat positions it
	// computes are at most half again its outputs (tapPlan.pays).
	tapNarrow bool
	// tapMinOut: the narrowest output rows tap convolutions are planned
	// for (0: any). AVX2 requantizes rows narrower than a vector by the
	// scalar code.
	tapMinOut int
}

// portableImpl is the plain Go implementation of every family.
func portableImpl() impl {
	return impl{
		kern:          kernPortable,
		directPack:    func(*packPlan) bool { return false },
		requantRows:   requantRowsScalar,
		packQuad:      packQuadScalar,
		maxPairs:      maxPairsScalar,
		packDirect:    packDirectScalar,
		maxRowPairs32: maxRowPairs32Scalar,
		maxPairs32:    maxPairs32Scalar,
		copyRows:      copyRowsScalar,
		packFlatGroup: packFlatGroupScalar,
		dwFlat3x3:     dwFlat3x3Scalar,
		sumPlanes:     sumPlanes,
		lookupPairs:   lookupPairsScalar,
		quantizeRow:   quantizeRowScalar,
		frameRows:     frameRowsScalar,
		pickRows32:    pickRows32Scalar,
		quadRows:      quadRowsScalar,
	}
}

// host is the implementation this process uses; set once at start-up.
var host = implFor(cpufeat.Host)

// Kernel names the int8 GEMM this process runs, from the CPU's features
// (QATGO_CPU lowers them): "amx", "avx512vnni", "avxvnni", "avx2",
// "avx512bw", "dotprod" or "portable".
func Kernel() string { return host.kern.String() }

// gemm computes C = A·B on the packed operands (see gemm.go) with the
// kernel a was packed for.
func gemm(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if a.kern == kernPortable {
		gemmPortable(c, ldc, a, b, ngroups)
		return
	}
	gemmArch(c, ldc, a, b, ngroups)
}

// requantRows requantizes count rows of width accumulators, rowStride
// apart in row, into count rows outStride apart in out, with one channel's
// parameters: one call per channel where the images of a chunk sit apart.
func requantRows(out []uint8, outStride int, row []int32, rowStride, count, width int, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	host.requantRows(out, outStride, row, rowStride, count, width, bias, m0, exp, zy, lo, hi)
}

// requantRowsScalar is requantRows by requantRowScalar.
func requantRowsScalar(out []uint8, outStride int, row []int32, rowStride, count, width int, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	for i := range count {
		requantRowScalar(out[i*outStride:][:width], row[i*rowStride:][:width], bias, m0, exp, zy, lo, hi)
	}
}

// packQuad: see packQuadScalar.
func packQuad(dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int) {
	host.packQuad(dst, k4, q, r0, r1, r2, r3, full)
}

// maxPairs: see maxPairsScalar.
func maxPairs(dst, src []uint8) { host.maxPairs(dst, src) }

// packDirect: see packDirectScalar.
func packDirect(dst []byte, src []uint8, plan *packPlan, k4, G, hw, n, b0, nb int) {
	host.packDirect(dst, src, plan, k4, G, hw, n, b0, nb)
}

// maxRowPairs32: see maxRowPairs32Scalar.
func maxRowPairs32(dst, src []int32, w int) { host.maxRowPairs32(dst, src, w) }

// lookupPairs: see lookupPairsScalar.
func lookupPairs(dst, a, b, lut []uint8) { host.lookupPairs(dst, a, b, lut) }

// dwFlat3x3: see dwFlat3x3Scalar.
func dwFlat3x3(acc []int32, frame []uint8, w *[9]int32, Wp int, q []uint32) {
	host.dwFlat3x3(acc, frame, w, Wp, q)
}

// copyRows: see copyRowsScalar.
func copyRows(dst, src []uint8, planes, rows, w, srcStride, planeStride int) {
	host.copyRows(dst, src, planes, rows, w, srcStride, planeStride)
}

// maxPairs32: see maxPairs32Scalar.
func maxPairs32(dst, src []int32) { host.maxPairs32(dst, src) }

// frameRows: see frameRowsScalar.
func frameRows(dst, src []uint8, rows, w, dstStride, planes, dstPlane int) {
	host.frameRows(dst, src, rows, w, dstStride, planes, dstPlane)
}

// pickRows32: see pickRows32Scalar.
func pickRows32(dst, src []int32, rows, w, srcStride, step, planes, srcPlane int) {
	host.pickRows32(dst, src, rows, w, srcStride, step, planes, srcPlane)
}

// quadRows: see quadRowsScalar.
func quadRows(dst []uint32, src []uint8, chStride, rows, w, dstStride, copies, copyStride int) {
	host.quadRows(dst, src, chStride, rows, w, dstStride, copies, copyStride)
}
