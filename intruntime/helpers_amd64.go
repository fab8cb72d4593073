package intruntime

import (
	"math/bits"
	"unsafe"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// The AVX-512 helpers in Go assembly (helpers_avx512_amd64.s). The Go
// wrappers check the slice lengths (the assembly does not) and leave the
// ragged tails to the scalar twins.

//go:noescape
func packQuad512(dst *byte, stride int, r0, r1, r2, r3 *uint8, full int)

//go:noescape
func maxPairs512(dst, src *uint8, n int)

//go:noescape
func maxPairs32x512(dst, src *int32, n int)

//go:noescape
func maxRowPairs32x512(dst, src *int32, rows, w int)

//go:noescape
func packDirect512(dst, src *byte, plan *packEntry, cnt, hw, n, b int, zx byte)

//go:noescape
func requantAVX2(out *uint8, row *int32, n int, c *requantScalars)

//go:noescape
func packQuadAVX2(dst *byte, stride int, r0, r1, r2, r3 *uint8, full int)

//go:noescape
func maxPairsAVX2(dst, src *uint8, n int)

//go:noescape
func maxPairs32AVX2(dst, src *int32, n int)

//go:noescape
func maxRowPairs32AVX2(dst, src *int32, rows, w int)

//go:noescape
func dwFlat3x3AVX2(acc *int32, frame *byte, w *[9]int32, Wp, n int)

//go:noescape
func dwFlat3x3x512(acc *int32, frame *byte, w *[9]int32, Wp, n int)

//go:noescape
func frameRows512(dst, src *uint8, rows, w, dstStride, planes, dstPlane int)

//go:noescape
func framePlanes512(dst, src *uint8, masks *uint64, chunks, srcLen int, zx uint8)

//go:noescape
func pickRows512(dst, src *int32, rows, w, srcStride, step, planes, srcPlane int)

//go:noescape
func dwFlatQuads512(acc *int32, frame *uint8, q *uint32, wq *[3]uint32, Wp, n, nq int)

//go:noescape
func dwStride2Quads512(acc *int32, frame *uint8, qe *uint32, wq *[3]uint32, Wp, rows, Wq, oh, ow, images, plane int)

//go:noescape
func quadRows512(dst *uint32, src *uint8, chStride, rows, w, dstStride, copies, copyStride int)

//go:noescape
func quantize512(dst *uint8, src *float32, n int, inv float32, z, lo, hi int32)

//go:noescape
func lookupPairs512(dst, a, b, lut *uint8, n int)

//go:noescape
func copyRowsAVX2(dst, src *byte, planes, rows, w, srcStride, planeStride int)

//go:noescape
func packShufAVX2(dst, src *byte, chunks *shufChunk, start *int32, cnt, hw, n, b int)

// avx2Helpers sets the AVX2 assembly helpers of im. AVX2 has no byte
// permutation across 128-bit lanes, so direct packing shuffles the 16-byte
// chunks each block uses (packDirectShuf), where they are few.
func avx2Helpers(im *impl) {
	im.requantRows = requantRowsAVX2
	im.requantPre = requantPreY
	im.requantRowsCh = requantRowsChY
	im.packQuad = func(dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int) {
		packQuadAsm(packQuadAVX2, dst, k4, q, r0, r1, r2, r3, full)
	}
	im.maxPairs = func(dst, src []uint8) { maxPairsAsm(maxPairsAVX2, dst, src) }
	im.maxPairs32 = func(dst, src []int32) { maxPairs32Asm(maxPairs32AVX2, dst, src) }
	im.maxRowPairs32 = func(dst, src []int32, w int) { maxRowPairs32Asm(maxRowPairs32AVX2, dst, src, w) }
	im.copyRows = copyRowsAsm
	im.dwFlat3x3 = dwFlat3x3Y
	im.directPack = (*packPlan).shufFits
	im.packDirect = packDirectShuf
	im.dw3x3s2 = dw3x3s2Y
	im.pickRows32 = pickRows32Y
	im.frameRows = frameRowsY
	im.quadRows = quadRowsY
	im.poolFlat32 = poolFlat32Y
	im.pickBytes2 = pickBytes2Y
	im.quantizeRow = quantizeRowY
	im.addLin = addLinY
	im.dwMask = dwMaskY
	im.stem = stemY
	im.packFlatGroup = packFlatGroupY
}

//go:noescape
func quantizeAVX2(dst *uint8, src *float32, n int, inv float32, z, lo, hi int32)

// quantizeRowY is quantizeRowScalar by quantizeAVX2, the last len mod 8
// values by the scalar code (a model's input quantization: 4% of LeNet-5's
// integer inference as a scalar loop).
func quantizeRowY(dst []uint8, src []float32, inv float32, z, lo, hi int32) {
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		quantizeAVX2(&dst[0], &src[0], n, inv, z, lo, hi)
	}
	quantizeRowScalar(dst[n:], src[n:], inv, z, lo, hi)
}

//go:noescape
func pickBytes2AVX2(dst, src *uint8, rows, w, srcStride, total, srcPlane int)

// pickBytes2Y is pickBytes2Scalar by pickBytes2AVX2, the rows whose
// 16-byte stores would pass the end of dst, or whose 32-byte reads the
// end of src, by the scalar code: a stride-2 convolution's im2col rows
// (resnet20's 3×3 stride-2 layers, from zero-point frames) were a byte
// loop before.
func pickBytes2Y(dst, src []uint8, rows, w, srcStride, planes, srcPlane int) {
	total := planes * rows
	if total == 0 || w == 0 {
		return
	}
	_ = dst[total*w-1]
	at := func(r int) int { return r/rows*srcPlane + r%rows*srcStride }
	n := vectorRowsOf(total, w, 16)
	for n > 0 && at(n-1)+2*roundUp(w, 16) > len(src) { // the last rows read past src's end
		n--
	}
	if n > 0 && lastRowsMax(n, rows, at)+2*roundUp(w, 16) > len(src) { // planes out of order
		n = 0
	}
	if n > 0 {
		pickBytes2AVX2(&dst[0], &src[0], rows, w, srcStride, n, srcPlane)
	}
	for r := n; r < total; r++ {
		pickBytes2Scalar(dst[r*w:][:w], src[at(r):], 1, w, 0, 1, 0)
	}
}

//go:noescape
func quadRowsAVX2(dst *uint32, src *uint8, chStride, rows, w, dstStride int)

// quadRowsY is quadRowsScalar by quadRowsAVX2 for one copy of rows at
// least 8 wide (the tap GEMM's quad planes, impl.tapSingle), else the
// scalar code.
func quadRowsY(dst []uint32, src []uint8, chStride, rows, w, dstStride, copies, copyStride int) {
	if rows <= 0 || copies != 1 || w < 8 {
		quadRowsScalar(dst, src, chStride, rows, w, dstStride, copies, copyStride)
		return
	}
	_, _ = dst[(rows-1)*dstStride+w-1], src[3*chStride+rows*w-1]
	quadRowsAVX2(&dst[0], &src[0], chStride, rows, w, dstStride)
}

//go:noescape
func poolFlat32AVX2(dst, src *int32, rows, w, stride int)

// poolFlat32Y is poolFlat32Scalar by poolFlat32AVX2, the rows whose
// whole-vector stores would pass the end of dst (or whose reads, of 16
// values a step, the end of src) by the scalar code.
func poolFlat32Y(dst, src []int32, rows, w, stride int) {
	if rows <= 0 || w <= 0 {
		return
	}
	_ = dst[rows*w-1]
	n := vectorRows(rows, w)
	if n > 0 && (2*n-1)*stride+2*roundUp(w, 8) > len(src) {
		n = 0
	}
	if n > 0 {
		poolFlat32AVX2(&dst[0], &src[0], n, w, stride)
	}
	for r := n; r < rows; r++ {
		poolFlat32Scalar(dst[r*w:][:w], src[2*r*stride:], 1, w, stride)
	}
}

//go:noescape
func frameRowsAVX2(dst, src *uint8, rows, w, dstStride, planes, dstPlane int)

// frameRowsY is frameRowsScalar by frameRowsAVX2 (MobileNetV2's
// depthwise frames: rows of 4 to 28 bytes, a memmove call each before).
func frameRowsY(dst, src []uint8, rows, w, dstStride, planes, dstPlane int) {
	if rows <= 0 || w <= 0 || planes <= 0 {
		return
	}
	_, _ = dst[(planes-1)*dstPlane+(rows-1)*dstStride+w-1], src[planes*rows*w-1]
	frameRowsAVX2(&dst[0], &src[0], rows, w, dstStride, planes, dstPlane)
}

//go:noescape
func requantRowsF8AVX2x(out *uint8, outStride int, row *int32, rowStride, count, width int, c *requantScalars)

//go:noescape
func requantRowsFSAVX2x(out *uint8, outStride int, row *int32, rowStride, count, width int, c *requantScalars)

// requantPreY is requantRowsAVX2 on operands set before (a step's, per
// channel): the float kernels (requantRowsF8AVX2x, requantRowsFSAVX2x)
// where the channel has one (rqFloat8, rqFloatSym: setFloat checks their
// operands with these kernels' rounding too), else the fixed-point one;
// rows that lie back to back in both out and row as one run, a run's last partial vector as its last 8 values
// again (the scalar code only for runs shorter than 8: on MobileNetV2's
// 14×14 and 7×7 planes the scalar tails took more time than the vectors).
func requantPreY(out []uint8, outStride int, row []int32, rowStride, count, width int, c *requantScalars) {
	if count == 0 || width == 0 {
		return
	}
	if count > 1 && outStride == width && rowStride == width {
		width, count = count*width, 1
	}
	if width < 8 {
		requantRowsScalar(out, outStride, row, rowStride, count, width, int64(c.bias), c.m0, uint(c.exp), c.zy, c.lo, c.hi)
		return
	}
	_, _ = out[(count-1)*outStride+width-1], row[(count-1)*rowStride+width-1]
	switch c.float {
	case floatRelu8:
		requantRowsF8AVX2x(&out[0], outStride, &row[0], rowStride, count, width, c)
		return
	case floatSymmetric:
		requantRowsFSAVX2x(&out[0], outStride, &row[0], rowStride, count, width, c)
		return
	}
	requantRowsAVX2x(&out[0], outStride, &row[0], rowStride, count, width, c)
}

//go:noescape
func requantRowsAVX2x(out *uint8, outStride int, row *int32, rowStride, count, width int, c *requantScalars)

//go:noescape
func dw3x3s2AVX2(acc *int32, frame *byte, wp *[6]uint32, Wp, oh, ow, rows, plane int)

// vectorRows returns how many of total rows of w values, back to back in
// a buffer of total·w, can be stored whole vectors of 8 at a time (the
// last one running into the next rows) without passing the buffer's end.
func vectorRows(total, w int) int { return vectorRowsOf(total, w, 8) }

// lastRowsMax returns the largest at(r) over the rows r < n that end a
// plane of rows rows or the run (the rows whose reads reach furthest where
// at grows within each plane, whatever the planes' order).
func lastRowsMax(n, rows int, at func(r int) int) int {
	m := 0
	for p := 0; p*rows < n; p++ {
		m = max(m, at(min(n-1, (p+1)*rows-1)))
	}
	return m
}

// vectorRowsOf is vectorRows for vectors of vec values.
func vectorRowsOf(total, w, vec int) int {
	if total*w < roundUp(w, vec) { // not even the first row (Go's division truncates toward zero)
		return 0
	}
	return min(total, (total*w-roundUp(w, vec))/w+1)
}

// dw3x3s2Y is dw3x3s2Scalar by dw3x3s2AVX2 for images frames plane bytes
// apart (their outputs back to back in acc), the rows whose whole-vector
// stores would pass the end of acc by the scalar code; q is not needed.
// False where acc is short or a frame read would pass the end of frame.
func dw3x3s2Y(acc []int32, frame []uint8, w *[9]int32, Wp, oh, ow int, _ []uint32, images, plane int) bool {
	total := images * oh
	if total == 0 || ow == 0 {
		return true
	}
	if len(acc) < total*ow {
		return false
	}
	// Rows whose whole-vector stores stay inside acc: a caller that gives
	// acc a vector's slack past the outputs gets every row (the last row
	// of each call had taken the scalar code: 6% of MobileNetV2's time).
	rows := 0
	if v := roundUp(ow, 8); len(acc) >= v {
		rows = min(total, (len(acc)-v)/ow+1)
	}
	at := func(r int) int { return r/oh*plane + 2*(r%oh)*Wp } // output row r's first frame row
	// The assembly's furthest read: its last row's last vector, 16 codes
	// from two past its start, on the third kernel row.
	if rows > 0 && lastRowsMax(rows, oh, at)+2*Wp+2*roundUp(ow, 8)+1 >= len(frame) {
		rows = 0
	}
	if rows > 0 {
		var wp [6]uint32
		for ky := range 3 {
			wp[2*ky] = uint32(uint16(int16(w[3*ky]))) | uint32(uint16(int16(w[3*ky+1])))<<16
			wp[2*ky+1] = uint32(uint16(int16(w[3*ky+2])))
		}
		dw3x3s2AVX2(&acc[0], &frame[0], &wp, Wp, oh, ow, rows, plane)
	}
	for r := rows; r < total; r++ {
		dw3x3s2Scalar(acc[r*ow:][:ow], frame[at(r):], w, Wp, 1, ow)
	}
	return true
}

//go:noescape
func pickRows32AVX2(dst, src *int32, rows, w, srcStride, total, srcPlane int)

// pickRows32Y is pickRows32Scalar by pickRows32AVX2 for step 1 (the rows
// whose whole-vector stores would pass the end of dst by copy), else the
// scalar code.
func pickRows32Y(dst, src []int32, rows, w, srcStride, step, planes, srcPlane int) {
	total := planes * rows
	if total == 0 || w == 0 || step != 1 {
		pickRows32Scalar(dst, src, rows, w, srcStride, step, planes, srcPlane)
		return
	}
	_ = dst[total*w-1]
	at := func(r int) int { return r/rows*srcPlane + r%rows*srcStride }
	n := vectorRows(total, w)
	if n > 0 && lastRowsMax(n, rows, at)+roundUp(w, 8) > len(src) { // whole vectors read too
		n = 0
	}
	if n > 0 {
		pickRows32AVX2(&dst[0], &src[0], rows, w, srcStride, n, srcPlane)
	}
	for r := n; r < total; r++ {
		copy(dst[r*w:][:w], src[at(r):][:w])
	}
}

// packDirectShuf is packDirectScalar by the plan's VPSHUFB chunks
// (packShufAVX2), for the bytes that matter (planOf's care): the others
// are zero here. As in packDirectAVX512, a chunk read that could end past
// len(src) makes the scalar twin run.
func packDirectShuf(dst []byte, src []uint8, plan *packPlan, k4, G, hw, n, b0, nb int) {
	cnt := G * k4
	if cnt == 0 || nb == 0 {
		return
	}
	if plan.readEnd(n, b0, nb, hw) > len(src) || len(plan.start) < cnt+1 {
		packDirectScalar(dst, src, plan, k4, G, hw, n, b0, nb)
		return
	}
	_ = dst[nb*cnt*blockSize-1]
	if plan.start[cnt] == 0 { // no byte matters: all blocks zero
		clear(dst[:nb*cnt*blockSize])
		return
	}
	for bi := range nb {
		packShufAVX2(&dst[bi*cnt*blockSize], &src[0], &plan.chunks[0], &plan.start[0], cnt, hw, n, b0+bi)
	}
}

// dwFlat3x3Y and dwFlat3x3Z are dwFlat3x3Scalar by the AVX2 (8 lanes) and
// AVX-512 (16 lanes) assembly loops, the tails by the scalar code. The
// assembly is called directly, not through a func value, so that w does
// not escape (graph_test's zero-allocation Run).
func dwFlat3x3Y(acc []int32, frame []uint8, w *[9]int32, Wp int, _ []uint32) {
	n := len(acc) &^ 7
	if n > 0 {
		_ = frame[2*Wp+n+1]
		dwFlat3x3AVX2(&acc[0], &frame[0], w, Wp, n)
	}
	dwFlat3x3Scalar(acc[n:], frame[n:], w, Wp, nil)
}

func dwFlat3x3Z(acc []int32, frame []uint8, w *[9]int32, Wp int, _ []uint32) {
	n := len(acc) &^ 15
	if n > 0 {
		_ = frame[2*Wp+n+1]
		dwFlat3x3x512(&acc[0], &frame[0], w, Wp, n)
	}
	dwFlat3x3Y(acc[n:], frame[n:], w, Wp, nil) // AVX-512 implies AVX2
}

// copyRowsAsm is copyRowsScalar by copyRowsAVX2, after the bounds checks
// the assembly does not make.
func copyRowsAsm(dst, src []uint8, planes, rows, w, srcStride, planeStride int) {
	if planes <= 0 || rows <= 0 || w <= 0 {
		return
	}
	_ = dst[planes*rows*w-1]
	_ = src[(planes-1)*planeStride+(rows-1)*srcStride+w-1]
	copyRowsAVX2(&dst[0], &src[0], planes, rows, w, srcStride, planeStride)
}

// requantRowsAVX2 is requantRowsScalar by requantPreY on operands set
// here (the fixed-point requantRowsAVX2x, 8 lanes at a time, rows back to
// back as one run, a run's last partial vector as its last 8 values
// again), the scalar code where set declines them.
func requantRowsAVX2(out []uint8, outStride int, row []int32, rowStride, count, width int, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	var c requantScalars
	if count == 0 || width == 0 || !c.set(bias, m0, exp, zy, lo, hi) {
		requantRowsScalar(out, outStride, row, rowStride, count, width, bias, m0, exp, zy, lo, hi)
		return
	}
	requantPreY(out, outStride, row, rowStride, count, width, &c) // the fixed-point kernel: set leaves no float operands
}

// avx512Helpers sets the AVX-512 assembly helpers of im.
func avx512Helpers(im *impl, f cpufeat.Features) {
	im.requantRows = requantRows512
	im.requantPre = requantPre512
	im.packQuad = func(dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int) {
		packQuadAsm(packQuad512, dst, k4, q, r0, r1, r2, r3, full)
	}
	im.maxPairs = func(dst, src []uint8) { maxPairsAsm(maxPairs512, dst, src) }
	im.maxPairs32 = func(dst, src []int32) { maxPairs32Asm(maxPairs32x512, dst, src) }
	im.maxRowPairs32 = func(dst, src []int32, w int) { maxRowPairs32Asm(maxRowPairs32x512, dst, src, w) }
	im.dwFlat3x3 = dwFlat3x3Z
	if f.VNNI {
		im.dwFlat3x3 = dwFlat3x3V
		im.dw3x3s2 = dw3x3s2V
	}
	im.frameRows = frameRowsZ
	im.dwMask = nil // AVX-512's frames, dwPerm and VNNI flat passes: not measured against it
	im.stem = nil   // the VNNI GEMM's fused epilogue: not measured against it
	if f.VBMI2 {
		im.framePlanes = framePlanesZ
	}
	im.pickRows32 = pickRows32Z
	im.pickBytes2 = pickBytes2Z
	im.quadRows = quadRowsZ
	im.lookupPairs = lookupPairsZ
	im.quantizeRow = quantizeRowZ
	im.packFlatGroup = packFlatGroupZ
	im.poolFlat32 = poolFlat32Z
	im.poolFlatCh = poolFlatChZ
	im.sumPlanes = sumPlanesZ
	im.packPointwise = packPointwiseZ
	if f.VNNI {
		im.gemmRequant = gemmVNNIRequant
	}
	im.packQuadIn = packQuadInZ
	im.requantFlat = requantFlatZ
	im.requantFlatPre = requantFlatPreZ
	im.requantFlatCh = requantFlatChZ
	im.requantRowsCh = requantRowsChZ
	if f.VBMI && f.VNNI {
		im.dwPerm = dwPermZ
		im.dwPermQuad = dwPermQuadZ
	}
	if f.VBMI {
		im.addPairs = addPairsZ
		im.addLin = nil // not measured against VPERMT2B's tables there
		// One VPERMI2B per block; elsewhere im2col + packQuad measured
		// faster than the scalar packDirect (14.4k against 12.1k LeNet-5
		// images per CPU-second with the AVX2 kernels).
		im.directPack = func(*packPlan) bool { return true }
		im.packDirect = packDirectAVX512
	}
}

// requantPre512 is requantRows512 on operands set before (a step's, per
// channel, at planning: set and the call cost MobileNetV2's many small
// planes a fifth of their time).
func requantPre512(out []uint8, outStride int, row []int32, rowStride, count, width int, c *requantScalars) {
	if width == 0 || count == 0 {
		return
	}
	_, _ = out[(count-1)*outStride+width-1], row[(count-1)*rowStride+width-1]
	o, r := &out[0], &row[0]
	rowsKernel(c.kernel())(o, outStride, r, rowStride, count, width, c, 0, 0, 0, 1)
}

// requantRows512 is requantRowsScalar, 16 lanes at a time, the tails
// masked.
func requantRows512(out []uint8, outStride int, row []int32, rowStride, count, width int, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	var c requantScalars
	if width == 0 || count == 0 || !c.set(bias, m0, exp, zy, lo, hi) {
		requantRowsScalar(out, outStride, row, rowStride, count, width, bias, m0, exp, zy, lo, hi)
		return
	}
	_, _ = out[(count-1)*outStride+width-1], row[(count-1)*rowStride+width-1]
	requantRowsCh512(&out[0], outStride, &row[0], rowStride, count, width, &c, 0, 0, 0, 1)
}

// packQuadAsm is packQuadScalar by an assembly loop, one 64-byte block
// per group.
func packQuadAsm(f func(dst *byte, stride int, r0, r1, r2, r3 *uint8, full int), dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int) {
	if full <= 0 {
		return
	}
	n := full * laneCols
	_, _, _, _ = r0[n-1], r1[n-1], r2[n-1], r3[n-1]
	_ = dst[((full-1)*k4+q)*blockSize+blockSize-1]
	f(&dst[q*blockSize], k4*blockSize, &r0[0], &r1[0], &r2[0], &r3[0], full)
}

// maxPairsAsm is maxPairsScalar by an assembly loop, 32 outputs a step.
func maxPairsAsm(f func(dst, src *uint8, n int), dst, src []uint8) {
	src = src[:2*len(dst)]
	n := len(dst) &^ 31
	if n > 0 {
		f(&dst[0], &src[0], n)
	}
	maxPairsScalar(dst[n:], src[2*n:])
}

// maxPairs32Asm is maxPairs32Scalar by an assembly loop, 8 outputs a step.
func maxPairs32Asm(f func(dst, src *int32, n int), dst, src []int32) {
	src = src[:2*len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		f(&dst[0], &src[0], n)
	}
	maxPairs32Scalar(dst[n:], src[2*n:])
}

// maxRowPairs32Asm is maxRowPairs32Scalar by an assembly loop.
func maxRowPairs32Asm(f func(dst, src *int32, rows, w int), dst, src []int32, w int) {
	if w <= 0 {
		return
	}
	rows := len(dst) / w
	if rows == 0 {
		return
	}
	_ = src[2*rows*w-1]
	f(&dst[0], &src[0], rows, w)
}

// packDirectAVX512 is packDirectScalar with one VPERMI2B per block. The
// assembly reads whole 64-byte windows (as the scalar code may read any
// byte of them), so src must hold them: if a window could end past
// len(src), the scalar twin runs.
func packDirectAVX512(dst []byte, src []uint8, plan *packPlan, k4, G, hw, n, b0, nb int) {
	cnt := G * k4
	if cnt == 0 || nb == 0 {
		return
	}
	entries := plan.entries[:cnt]
	if plan.readEnd(n, b0, nb, hw) > len(src) {
		packDirectScalar(dst, src, plan, k4, G, hw, n, b0, nb)
		return
	}
	_ = dst[nb*cnt*blockSize-1]
	for bi := range nb {
		packDirect512(&dst[bi*cnt*blockSize], &src[0], &entries[0], cnt, hw, n, b0+bi, plan.zx)
	}
}

// frameRowsZ is frameRowsScalar by masked AVX-512 moves, a row each, for
// rows of up to 64 bytes.
func frameRowsZ(dst, src []uint8, rows, w, dstStride, planes, dstPlane int) {
	if rows == 0 || w == 0 || planes == 0 || w > 64 {
		frameRowsScalar(dst, src, rows, w, dstStride, planes, dstPlane)
		return
	}
	_, _ = dst[(planes-1)*dstPlane+(rows-1)*dstStride+w-1], src[planes*rows*w-1]
	frameRows512(&dst[0], &src[0], rows, w, dstStride, planes, dstPlane)
}

// framePlanesZ is framePlanesScalar by VPEXPANDB, 64 bytes a step.
func framePlanesZ(dst, src []uint8, masks []uint64, zx uint8) {
	if len(masks) == 0 {
		return
	}
	_ = dst[64*len(masks)-1]
	var s *uint8
	if len(src) > 0 {
		s = &src[0]
	}
	framePlanes512(&dst[0], s, &masks[0], len(masks), len(src), zx)
}

// pickRows32Z is pickRows32Scalar by masked AVX-512 moves (VPMOVQD for
// step 2).
func pickRows32Z(dst, src []int32, rows, w, srcStride, step, planes, srcPlane int) {
	if rows == 0 || w == 0 || planes == 0 || step < 1 || step > 2 {
		pickRows32Scalar(dst, src, rows, w, srcStride, step, planes, srcPlane)
		return
	}
	_, _ = dst[planes*rows*w-1], src[(planes-1)*srcPlane+(rows-1)*srcStride+(w-1)*step]
	pickRows512(&dst[0], &src[0], rows, w, srcStride, step, planes, srcPlane)
}

//go:noescape
func pickBytes2x512(dst, src *uint8, rows, w, srcStride, planes, srcPlane int)

// pickBytes2Z is pickBytes2Scalar by VPMOVWB, 32 bytes a step; the
// scalar code where the last word read would pass the end of src.
func pickBytes2Z(dst, src []uint8, rows, w, srcStride, planes, srcPlane int) {
	if rows == 0 || w == 0 || planes == 0 {
		return
	}
	_ = dst[planes*rows*w-1]
	if (planes-1)*srcPlane+(rows-1)*srcStride+2*w > len(src) {
		pickBytes2Scalar(dst, src, rows, w, srcStride, planes, srcPlane)
		return
	}
	pickBytes2x512(&dst[0], &src[0], rows, w, srcStride, planes, srcPlane)
}

// quadRowsZ is quadRowsScalar by AVX-512, 16 positions a step.
func quadRowsZ(dst []uint32, src []uint8, chStride, rows, w, dstStride, copies, copyStride int) {
	if rows == 0 || w == 0 || copies == 0 {
		return
	}
	_, _ = dst[(copies-1)*copyStride+(rows-1)*dstStride+w-1], src[3*chStride+rows*w-1]
	quadRows512(&dst[0], &src[0], chStride, rows, w, dstStride, copies, 4*copyStride)
}

// kernelRows packs a 3×3 kernel's rows as three weight bytes per dword.
func kernelRows(w *[9]int32) (wq [3]uint32) {
	for ky := range wq {
		wq[ky] = kernelRow(w[3*ky], w[3*ky+1], w[3*ky+2])
	}
	return wq
}

// dw3x3s2V is dw3x3s2Scalar by dwStride2Quads512 for images frames plane
// bytes apart (their outputs back to back in acc), with q as the scratch
// of its code triples (dw3x3s2Quads values); false where q is too short.
func dw3x3s2V(acc []int32, frame []uint8, w *[9]int32, Wp, oh, ow int, q []uint32, images, plane int) bool {
	rows, Wq := 2*oh+1, dw3x3s2Width(Wp)
	if oh == 0 || ow == 0 || images == 0 || len(q) < rows*Wq {
		return false
	}
	_ = acc[images*oh*ow-1]
	_ = frame[(images-1)*plane+(rows-1)*Wp+2*Wq+1] // the last row's last word-wide load
	wq := kernelRows(w)
	dwStride2Quads512(&acc[0], &frame[0], &q[0], &wq, Wp, rows, Wq, oh, ow, images, plane)
	return true
}

// dwFlat3x3V is dwFlat3x3Scalar by dwFlatQuads512 where q holds the
// frame's codes in kernel-row triples (dwQuadsFor(len(acc), Wp) values),
// the tail by dwFlat3x3Z.
func dwFlat3x3V(acc []int32, frame []uint8, w *[9]int32, Wp int, q []uint32) {
	n := len(acc) &^ 15
	nq := dwQuadsFor(n, Wp)
	if n == 0 || len(q) < nq {
		dwFlat3x3Z(acc, frame, w, Wp, nil)
		return
	}
	_ = frame[nq+1] // the last triple's third code
	wq := kernelRows(w)
	dwFlatQuads512(&acc[0], &frame[0], &q[0], &wq, Wp, n, nq)
	dwFlat3x3Z(acc[n:], frame[n:], w, Wp, nil)
}

// requantFlatZ is requantFlatScalar by requantFlatCh512; false where its
// operands are outside what the assembly does exactly (requantScalars.set).
func requantFlatZ(out []uint8, row []int32, masks []uint16, bias int64, m0 int32, exp uint, zy, lo, hi int32) bool {
	var c requantScalars
	if len(masks) == 0 || !c.set(bias, m0, exp, zy, lo, hi) {
		return false
	}
	n := 0
	for _, k := range masks {
		n += bits.OnesCount16(k)
	}
	requantFlatPreZ(out, row, masks, n, &c)
	return true
}

// requantFlatPreZ is requantFlatZ on a channel's planned operands c, for
// masks that select n positions in all (the plan counted them once):
// without the per-call set and count, which were a third of the
// requantization of resnet20's narrow tap layers, and without the
// clamp for the bias add where c.exactSum.
func requantFlatPreZ(out []uint8, row []int32, masks []uint16, n int, c *requantScalars) {
	if len(masks) == 0 || n == 0 {
		return
	}
	_, _ = row[16*len(masks)-1], out[n-1]
	o, r, k := &out[0], &row[0], &masks[0]
	flatKernel(c.kernel())(o, 0, r, 0, k, len(masks), c, 0, 1)
}

//go:noescape
func requantFlatCh512(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)

//go:noescape
func requantRowsCh512(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)

//go:noescape
func requantFlatCh512nc(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)

//go:noescape
func requantRowsCh512nc(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)

//go:noescape
func requantFlatCh512nn(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)

//go:noescape
func requantRowsCh512nn(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)

//go:noescape
func requantFlatCh512r8(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)

//go:noescape
func requantFlatCh512f8(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)

//go:noescape
func requantFlatCh512fs(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)

//go:noescape
func requantRowsCh512fs(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)

//go:noescape
func requantRowsCh512f8(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)

//go:noescape
func requantRowsCh512r8(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)

// rowsKernel is the requantRowsCh512 variant of requantization kernel
// kind (requantScalars.kernel); the one-channel calls take it too.
func rowsKernel(kind int) func(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int) {
	switch kind {
	case rqFloatSym:
		return requantRowsCh512fs
	case rqFloat8:
		return requantRowsCh512f8
	case rqRelu8:
		return requantRowsCh512r8
	case rqNoNeg:
		return requantRowsCh512nn
	case rqExact:
		return requantRowsCh512nc
	}
	return requantRowsCh512
}

// flatKernel is the requantFlatCh512 variant of requantization kernel kind.
func flatKernel(kind int) func(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int) {
	switch kind {
	case rqFloatSym:
		return requantFlatCh512fs
	case rqFloat8:
		return requantFlatCh512f8
	case rqRelu8:
		return requantFlatCh512r8
	case rqNoNeg:
		return requantFlatCh512nn
	case rqExact:
		return requantFlatCh512nc
	}
	return requantFlatCh512
}

// requantFlatChZ is requantFlatPreZ on every channel of rq: channel m's
// accumulators at acc[m·ldc:], its n outputs at out[m·outStride:].
func requantFlatChZ(out []uint8, outStride int, acc []int32, ldc int, masks []uint16, n int, rq []requantScalars, kind int) {
	M := len(rq)
	if M == 0 || len(masks) == 0 || n == 0 {
		return
	}
	_, _ = acc[(M-1)*ldc+16*len(masks)-1], out[(M-1)*outStride+n-1]
	kindRuns(rq, kind, 1, true, func(m0, m1, k int) {
		flatKernel(k)(&out[m0*outStride], outStride, &acc[m0*ldc], ldc, &masks[0], len(masks), &rq[m0], int(unsafe.Sizeof(rq[0])), m1-m0)
	})
}

// requantRowsChZ is requantPre512 on every channel of rq: channel m's rows
// rows of w accumulators rowStride apart from acc[m·ldc:] into rows of w
// outputs outRow bytes apart from out[m·outStride:].
func requantRowsChZ(out []uint8, outStride, outRow int, acc []int32, ldc, rows, w, rowStride int, rq []requantScalars, kind int) {
	M := len(rq)
	if M == 0 || rows == 0 || w == 0 {
		return
	}
	_, _ = acc[(M-1)*ldc+(rows-1)*rowStride+w-1], out[(M-1)*outStride+(rows-1)*outRow+w-1]
	kindRuns(rq, kind, 1, true, func(m0, m1, k int) {
		rowsKernel(k)(&out[m0*outStride], outRow, &acc[m0*ldc], rowStride, rows, w, &rq[m0], outStride, ldc, int(unsafe.Sizeof(rq[0])), m1-m0)
	})
}

// lookupPairsZ is lookupPairsScalar by dword gathers (VPGATHERDD, scale 1,
// the low byte kept), 16 pairs a step, the tail by the scalar code.
func lookupPairsZ(dst, a, b, lut []uint8) {
	n := len(dst) &^ 15
	if n > 0 {
		_, _, _ = a[n-1], b[n-1], lut[1<<16+2]
		lookupPairs512(&dst[0], &a[0], &b[0], &lut[0], n)
	}
	lookupPairsScalar(dst[n:], a[n:len(dst)], b[n:len(dst)], lut)
}

//go:noescape
func addPairs512(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)

//go:noescape
func addPairs512nn(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)

//go:noescape
func addPairs512s(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)

//go:noescape
func addPairs512sc(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)

//go:noescape
func addPairs512r8(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)

// addPairsZ is lookupPairsZ on lut computed from p, 64 pairs at a time
// (two tables by VPERMT2B, the sum requantized: no gathers), the tail
// looked up.
func addPairsZ(dst, a, b []uint8, p *addPerm, lut []uint8) {
	n := len(dst) &^ 63
	if n > 0 {
		_, _ = a[n-1], b[n-1]
		f := addPairs512
		switch {
		case p.shifted && p.rq.lo == 0 && p.rq.hi == 255:
			f = addPairs512s
		case p.shifted:
			f = addPairs512sc
		case p.rq.kernel() == rqRelu8:
			f = addPairs512r8
		case p.rq.kernel() == rqNoNeg:
			f = addPairs512nn
		}
		f(&dst[0], &a[0], &b[0], n, &p.tabs[0], &p.rq)
	}
	lookupPairsZ(dst[n:], a[n:len(dst)], b[n:len(dst)], lut)
}

//go:noescape
func packFlat512(dst, plane *uint8, idx *int32, q4, planes, planeStride int, lanes uint16)

// packFlatGroupZ is packFlatGroupScalar by packFlat512, one dword gather
// a block (packFlat has checked the bytes the gathers read).
func packFlatGroupZ(blocks []byte, src []uint8, f *flatPack, n, lanes int) {
	var idx [laneCols]int32
	for l := range idx {
		idx[l] = int32(l * f.hw)
	}
	packFlat512(&blocks[0], &src[0], &idx[0], f.hw4/4, f.c, n*f.hw, uint16(1)<<lanes-1)
}

// quantizeRowZ is quantizeRowScalar by quantize512.
func quantizeRowZ(dst []uint8, src []float32, inv float32, z, lo, hi int32) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	quantize512(&dst[0], &src[0], len(src), inv, z, lo, hi)
}

// poolFlat32Z is poolFlat32Scalar by poolFlatCh512 on one plane.
//
//go:noescape
func poolFlatCh512(dst, src *int32, rows, w, stride, planes, srcPlane int)

// poolFlatChZ is poolFlat32Z on planes planes srcPlane int32s apart in
// src, their pooled rows·w values back to back in dst.
func poolFlatChZ(dst, src []int32, rows, w, stride, planes, srcPlane int) {
	if rows == 0 || w == 0 || planes == 0 {
		return
	}
	_, _ = dst[planes*rows*w-1], src[(planes-1)*srcPlane+(2*rows-1)*stride+2*w-1]
	poolFlatCh512(&dst[0], &src[0], rows, w, stride, planes, srcPlane)
}

func poolFlat32Z(dst, src []int32, rows, w, stride int) {
	if rows == 0 || w == 0 {
		return
	}
	_, _ = dst[rows*w-1], src[(2*rows-1)*stride+2*w-1]
	poolFlatCh512(&dst[0], &src[0], rows, w, stride, 1, 0)
}

//go:noescape
func dwPerm512(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPerm512nc(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPerm512nn(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPerm512r8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPerm512f8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermWide512f8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermPlane512f8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermWide512(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermWide512nc(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermWide512nn(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermWide512r8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermPlane512(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermPlane512nc(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermPlane512nn(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

//go:noescape
func dwPermPlane512r8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)

// dwPermKernel is the dwPerm512 variant for requantization kernel kind
// and plan mode (dwPermPlan.mode).
func dwPermKernel(kind, mode int) func(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int) {
	type kernel = func(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
	if kind == rqFloatSym { // no float depthwise for it: the fixed-point one serves it
		kind = rqExact
	}
	var ks [5]kernel
	switch mode {
	case dwPermPlane:
		ks = [5]kernel{rqGeneral: dwPermPlane512, rqExact: dwPermPlane512nc, rqNoNeg: dwPermPlane512nn, rqRelu8: dwPermPlane512r8, rqFloat8: dwPermPlane512f8}
	case dwPermWide:
		ks = [5]kernel{rqGeneral: dwPermWide512, rqExact: dwPermWide512nc, rqNoNeg: dwPermWide512nn, rqRelu8: dwPermWide512r8, rqFloat8: dwPermWide512f8}
	default:
		ks = [5]kernel{rqGeneral: dwPerm512, rqExact: dwPerm512nc, rqNoNeg: dwPerm512nn, rqRelu8: dwPerm512r8, rqFloat8: dwPerm512f8}
	}
	return ks[kind]
}

// dwPermZ is the depthwise 3×3 of a dwPermPlan by dwPerm512* (the variant
// of requantization kernel kind): every channel of rq (len(rq) channels,
// planes chIn bytes apart in src, outputs chOut bytes apart in dst) on
// images planes each.
func dwPermZ(dst, src []uint8, pl *dwPermPlan, images, chIn, chOut int, rq []requantScalars, kind int, zx uint8) {
	C := len(rq)
	if C == 0 || images == 0 {
		return
	}
	if len(pl.wq) < 3*C || len(pl.vecs) != dwPermRecord*pl.nv || pl.nv < 1 || chIn < images*pl.hw || chOut < images*pl.p {
		panic("intruntime: dwPermZ: bad operands")
	}
	// The masked window loads read no byte past the last plane.
	_, _ = src[(C-1)*chIn+images*pl.hw-1], dst[(C-1)*chOut+images*pl.p-1]
	kindRuns(rq, kind, 1, false, func(m0, m1, k int) {
		f := dwPermKernel(k, pl.mode)
		f(&dst[m0*chOut], &src[m0*chIn], chIn, chOut, images, pl.hw, &pl.vecs[0], pl.nv, &pl.wq[3*m0], &rq[m0], int(unsafe.Sizeof(rq[0])), m1-m0, int(zx))
	})
}

//go:noescape
func sumPlanes512(sums *int32, src *uint8, hw, planes int)

// sumPlanesZ is sumPlanes by sumPlanes512 for planes of at most 64 bytes.
func sumPlanesZ(sums []int32, src []uint8, hw int) {
	if hw < 1 || hw > 64 || len(sums) == 0 {
		sumPlanes(sums, src, hw)
		return
	}
	_ = src[len(sums)*hw-1] // the masked loads read no byte past the last plane
	sumPlanes512(&sums[0], &src[0], hw, len(sums))
}

//go:noescape
func packPointwise512(dst *byte, src *uint8, rowStride, k4, groups int)

// packPointwiseZ packs the k rows of n columns at src (rowStride bytes
// apart) as packConv does, its whole groups by packPointwise512 (in
// store order: MobileNetV2 +3–5% over packQuad512's quad-major order),
// the rest (a ragged group, zero groups) by packQuadTail; false where k is not whole
// quads or n less than a group.
func packPointwiseZ(dst []byte, src []uint8, rowStride, k, n int) bool {
	if k%4 != 0 || k == 0 || n < laneCols || rowStride < n {
		return false
	}
	k4, full := k/4, n/laneCols
	_, _ = src[(k-1)*rowStride+n-1], dst[groupsFor(n)*k4*blockSize-1]
	packPointwise512(&dst[0], &src[0], rowStride, k4, full)
	if groupsFor(n) > full { // a ragged group, or the zero groups past n
		for q := range k4 {
			var rows [4][]uint8
			for j := range 4 {
				rows[j] = src[(4*q+j)*rowStride:][:n]
			}
			packQuadTail(dst, k4, q, rows, n)
		}
	}
	return true
}

//go:noescape
func dwPermQuad512(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)

//go:noescape
func dwPermQuad512Wide(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)

//go:noescape
func dwPermQuad512F(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)

//go:noescape
func dwPermQuad512WideF(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)

//go:noescape
func dwPermQuad512PlaneF(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)

//go:noescape
func dwPermQuad512Plane(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)

// dwPermQuadZ is dwPermZ for channels in quads whose requantization is
// relu8 (rqRelu8, by rqFloat8 where every channel allows it; the assembly reads each channel's operands from memory,
// 96 bytes apart), its outputs quad-interleaved (quadIndex) with quadN
// positions a quad row: four channels a pass, one store per 16 positions.
// False where it does not apply.
func dwPermQuadZ(dst, src []uint8, pl *dwPermPlan, images, chIn, quadN int, rq []requantScalars, kind int, zx uint8) bool {
	C := len(rq)
	if C == 0 || C%4 != 0 || unsafe.Sizeof(rq[0]) != 96 || len(pl.wq) < 3*C || len(pl.vecs) != dwPermRecord*pl.nv || pl.nv < 1 ||
		chIn < images*pl.hw || quadN < images*pl.p {
		return false
	}
	if !relu8Kind(kind) {
		return false
	}
	if images == 0 {
		return true
	}
	_, _ = src[(C-1)*chIn+images*pl.hw-1], dst[C*quadN-1]
	kindRuns(rq, kind, 4, false, func(m0, m1, k int) {
		f := dwPermQuad512
		switch pl.mode {
		case dwPermWide:
			f = dwPermQuad512Wide
		case dwPermPlane:
			f = dwPermQuad512Plane
		}
		if k == rqFloat8 {
			f = dwPermQuad512F
			switch pl.mode {
			case dwPermWide:
				f = dwPermQuad512WideF
			case dwPermPlane:
				f = dwPermQuad512PlaneF
			}
		}
		f(&dst[m0*quadN], &src[m0*chIn], chIn, quadN, images, pl.hw, &pl.vecs[0], pl.nv, &pl.wq[3*m0], &rq[m0], (m1-m0)/4, int(zx))
	})
	return true
}

//go:noescape
func copyBlocks512(dst, src *byte, n, dstStride int)

// packQuadInZ packs a 1×1 convolution's GEMM operand from its
// quad-interleaved input (quadIndex, total positions a quad row): the n
// columns from position p0 as blocks of 16 positions copied whole; the
// positions past n in the last group(s) are whatever follows them (the
// next images', the next quad row's, the buffer's slack: columns the GEMM
// computes and drops), so src must extend past its last quad row by the
// groups' rounding (slack).
func packQuadInZ(dst []byte, src []uint8, k4, total, p0, n int) {
	ng := groupsFor(n)
	src = src[:cap(src)]
	_, _ = src[((k4-1)*total+p0+16*ng)*4-1], dst[(ng*k4)*blockSize-1]
	for q := range k4 {
		copyBlocks512(&dst[q*blockSize], &src[(q*total+p0)*4], ng, k4*blockSize)
	}
}

//go:noescape
func addLinAVX2(dst, a, b *uint8, n int, p *addLinear)

// addLinY is addLinearScalar by addLinAVX2, 32 pairs a step, the tail
// looked up in lut.
func addLinY(dst, a, b []uint8, p *addLinear, lut []uint8) {
	n := len(dst) &^ 31
	if n > 0 {
		_, _ = a[n-1], b[n-1]
		addLinAVX2(&dst[0], &a[0], &b[0], n, p)
	}
	lookupPairsScalar(dst[n:], a[n:len(dst)], b[n:len(dst)], lut)
}

//go:noescape
func dwMaskAVX2(acc *int32, src *uint8, planes, hw, W int, masks *byte, nv int, wp *[5]uint32, zx uint32)

// dwMaskY writes the depthwise 3×3 sums of planes planes of p's geometry,
// back to back from src[off:], into acc (dwMaskScalar in the tests) by
// dwMaskAVX2, the weights as dwMaskWeights' pairs in wp. The kernel reads
// up to W + 1 bytes before each plane and W past the last one: a first
// plane with fewer bytes before it in src goes through guard (2·slack + hw
// bytes), between zero points; the bytes after come from src's capacity
// (buffers have slack).
func dwMaskY(acc []int32, src []uint8, off, planes int, p *dwMaskPlan, wp *[5]uint32, zx uint8, guard []uint8) {
	if planes == 0 {
		return
	}
	hw := p.hw
	_ = acc[planes*hw-1]
	src = src[:cap(src)]
	if off+planes*hw+p.w+1 > len(src) || len(p.masks) != p.nv*9*16 {
		panic("intruntime: dwMaskY: source too short for the kernel's reads")
	}
	if off < p.w+1 {
		g := guard[:2*slack+hw]
		fill(g[:slack], zx)
		copy(g[slack:], src[off:off+hw])
		fill(g[slack+hw:], zx)
		dwMaskAVX2(&acc[0], &g[slack], 1, hw, p.w, &p.masks[0], p.nv, wp, uint32(zx))
		acc, off, planes = acc[hw:], off+hw, planes-1
		if planes == 0 {
			return
		}
	}
	dwMaskAVX2(&acc[0], &src[off], planes, hw, p.w, &p.masks[0], p.nv, wp, uint32(zx))
}

//go:noescape
func requantChF8AVX2x(out *uint8, outStride, outRow int, acc *int32, ldc, rows, w, rowStride int, rq *requantScalars, channels int)

//go:noescape
func requantChFSAVX2x(out *uint8, outStride, outRow int, acc *int32, ldc, rows, w, rowStride int, rq *requantScalars, channels int)

// requantRowsChY is requantPreY on every channel of rq (kind unused: each
// channel's own operands pick its kernel): channel m's rows rows of w
// accumulators rowStride apart from acc[m·ldc:] into rows of w outputs
// outRow bytes apart from out[m·outStride:]. Runs of channels with one
// float kernel take one assembly call each, MXCSR set once: a 1×1
// convolution's chunk is often one image, and per channel the call and
// MXCSR's save and restore had cost as much as 196 outputs' requantization.
func requantRowsChY(out []uint8, outStride, outRow int, acc []int32, ldc, rows, w, rowStride int, rq []requantScalars, kind int) {
	M := len(rq)
	if M == 0 || rows == 0 || w == 0 {
		return
	}
	if rows > 1 && outRow == w && rowStride == w {
		w, rows = rows*w, 1
	}
	if w < 8 {
		for m := range rq {
			requantPreY(out[m*outStride:], outRow, acc[m*ldc:], rowStride, rows, w, &rq[m])
		}
		return
	}
	_, _ = acc[(M-1)*ldc+(rows-1)*rowStride+w-1], out[(M-1)*outStride+(rows-1)*outRow+w-1]
	if unsafe.Sizeof(rq[0]) != 96 { // the assembly's stride between channels' operands
		panic("intruntime: requantRowsChY: requantScalars is not 96 bytes")
	}
	for m0 := 0; m0 < M; {
		f := rq[m0].float
		m1 := m0 + 1
		for m1 < M && rq[m1].float == f {
			m1++
		}
		switch f {
		case floatRelu8:
			requantChF8AVX2x(&out[m0*outStride], outStride, outRow, &acc[m0*ldc], ldc, rows, w, rowStride, &rq[m0], m1-m0)
		case floatSymmetric:
			requantChFSAVX2x(&out[m0*outStride], outStride, outRow, &acc[m0*ldc], ldc, rows, w, rowStride, &rq[m0], m1-m0)
		default:
			for m := m0; m < m1; m++ {
				requantPreY(out[m*outStride:], outRow, acc[m*ldc:], rowStride, rows, w, &rq[m])
			}
		}
		m0 = m1
	}
}

//go:noescape
func stemAVX2(out *uint8, outStride, outRow int, in *uint8, wf, rows, ow int, offs *int32, w *uint32, rq *requantScalars, m int)

// stemY is stemScalar by stemAVX2 (stemconv.go), which requantizes by the
// float relu8 kernel (newStemPlan planned only channels that have it:
// setFloat checked it against the fixed-point one on every accumulator).
// One image's frames; the assembly makes no bounds checks, so this
// checks the furthest byte each operand is read or written at.
func stemY(out []uint8, outStride, outRow int, frames []uint8, p *stemPlan, rq []requantScalars) {
	m := len(rq)
	if m == 0 {
		return
	}
	if p.ow < 16 || outRow < p.ow || len(p.w) != m*stemTaps/2*8 || unsafe.Sizeof(rq[0]) != 96 {
		panic("intruntime: stemY: bad plan")
	}
	var last int32
	for _, o := range p.offs {
		last = max(last, o)
	}
	_, _ = frames[int(last)+(p.oh-1)*p.wf+p.ow-1], out[(m-1)*outStride+(p.oh-1)*outRow+p.ow-1]
	stemAVX2(&out[0], outStride, outRow, &frames[0], p.wf, p.oh, p.ow, &p.offs[0], &p.w[0], &rq[0], m)
}

//go:noescape
func packFlatAVX2(blocks *byte, src *uint8, hw, q4, channels, chStride int)

// packFlatGroupY is packFlatGroupScalar by packFlatAVX2 for whole groups
// whose reads (up to 32 bytes past a channel's last quads) stay in src;
// the scalar code for the rest (vgg-small's fc1, 1568 features: the Go
// loop was 2–3% of the model).
func packFlatGroupY(blocks []byte, src []uint8, f *flatPack, n, lanes int) {
	q4 := f.hw4 / 4
	last := (f.c-1)*n*f.hw + (laneCols-1)*f.hw + 32*ceilDiv(q4, 8) - 1
	if lanes < laneCols || q4 == 0 || last >= len(src) {
		packFlatGroupScalar(blocks, src, f, n, lanes)
		return
	}
	_ = blocks[f.c*q4*blockSize-1]
	packFlatAVX2(&blocks[0], &src[0], f.hw, q4, f.c, n*f.hw)
}
