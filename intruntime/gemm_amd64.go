package intruntime

import (
	"unsafe"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// implFor picks the amd64 kernels for a CPU with features f: the AMX GEMM
// where Linux grants the tiles (layers with fewer than amxMinQuads k-quads
// still get VNNI's, packWeights); the VNNI assembly GEMM where there is
// AVX512-VNNI (VPDPBUSD is one instruction
// per 64 multiply-adds and exact for any int8 weights, where VPMADDUBSW
// needs VPMADDWD and an add, and twice that for weights that could
// saturate it); the archsimd AVX-512BW GEMM in GOEXPERIMENT=simd builds;
// the same VPDPBUSD on ymm where there is AVX-VNNI without AVX-512 (Intel
// client cores since Alder Lake); else the AVX2 assembly GEMM.
func implFor(f cpufeat.Features) impl {
	im := portableImpl()
	switch {
	case f.AMX:
		im.kern = kernAMX
		im.tapGemm = tapGemmAMX
	case f.VNNI:
		im.kern = kernVNNI
		im.tapGemm, im.tapSingle = tapGemmVNNI, true
		im.tapNarrow = true
	case f.AVX512 && archsimdBuild:
		im.kern = kernAVX512BW
	case f.AVXVNNI:
		im.kern = kernAVXVNNI
	case f.AVX2:
		im.kern = kernAVX2
		im.tapGemm, im.tapSingle = tapGemmAVX2, true
		im.tapMinOut = 8
		im.wg = wgAVX2Kernels
	}
	if f.AVX2 {
		avx2Helpers(&im)
	}
	if f.AVX512 {
		avx512Helpers(&im, f)
	}
	return im
}

// gemmArch runs the amd64 kernel a was packed for.
func gemmArch(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	switch a.kern {
	case kernAMX:
		gemmAMX(c, ldc, a, b, ngroups)
	case kernVNNI:
		gemmVNNI(c, ldc, a, b, ngroups)
	case kernAVX512BW:
		gemmArchsimd(c, ldc, a, b, ngroups)
	case kernAVXVNNI:
		gemmAVXVNNI(c, ldc, a, b, ngroups)
	case kernAVX2:
		gemmAVX2(c, ldc, a, b, ngroups)
	default:
		gemmPortable(c, ldc, a, b, ngroups)
	}
}

// checkPanels checks the operands of the 5-row panel kernels, whose
// assembly makes no bounds checks, and returns the byte stride gs between
// B's groups. It panics (a programmer error) if c or b is too short for
// the call.
func checkPanels(name string, c []int32, ldc int, a *packedWeights, b []byte, ngroups int) (gs int) {
	gs = a.k4 * blockSize
	_ = b[ngroups*gs-1]
	_ = c[(a.mpad-1)*ldc+ngroups*laneCols-1]
	if ldc < ngroups*laneCols || len(a.w5) != a.mpad*a.k4 || a.mpad%5 != 0 {
		panic("intruntime: " + name + ": bad operands")
	}
	return gs
}

//go:noescape
func vnni5x4(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)

//go:noescape
func vnni5x1(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)

// gemmVNNI computes C = A·B (see gemm.go) five rows at a time: four
// groups per micro-tile (20 accumulators, more than Go's compiler keeps
// in registers, hence assembly), single groups for the rest.
// It panics (a programmer error) if c or b is too short for the call.
func gemmVNNI(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if ngroups == 0 {
		return
	}
	gs := checkPanels("gemmVNNI", c, ldc, a, b, ngroups)
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

//go:noescape
func vnniTap8x2(c *int32, ldc int, w *int32, q *uint32, qs int, offs *int32, ntaps, rows, n int)

// tapGemmVNNI is the tap GEMM by VPDPBUSD on one quad plane per channel
// quad (impl.tapSingle), each of the kh·kw taps read at its offset
// (tapPlan.w1, offs1), an 8-row panel and 32 flat positions at a time. It
// panics (a programmer error) if acc or q is too short for the plan.
func tapGemmVNNI(acc []int32, ldc int, p *tapPlan, q []uint32) {
	panels, taps := ceilDiv(p.m, 8), p.kh*p.kw
	_, _ = acc[(8*panels-1)*ldc+p.ldc()-1], q[p.qlen1-1]
	if ldc < p.ldc() || len(p.w1) != panels*taps*p.kq*8 || len(p.offs1) != taps || p.kq*p.plane > p.qlen1 || p.ldc()%32 != 0 {
		panic("intruntime: tapGemmVNNI: bad operands")
	}
	for pi := range panels {
		vnniTap8x2(&acc[8*pi*ldc], ldc, &p.w1[pi*taps*p.kq*8], &q[0], 4*p.plane, &p.offs1[0], taps, p.kq, p.ldc()/32)
	}
}

//go:noescape
func tapAVX2x4(acc *int32, ldc int, w *uint64, q *uint32, offs *int32, nk, n int)

// tapGemmAVX2 is the tap GEMM by VPMADDWD on int16 weights (tapPlan.w16)
// and one quad plane per channel quad (impl.tapSingle), each (tap,
// quad) pair read at its byte offset (offs16), a 4-row panel and 8 flat
// positions at a time. It panics (a programmer error) if acc or q is too
// short for the plan.
func tapGemmAVX2(acc []int32, ldc int, p *tapPlan, q []uint32) {
	panels, nk := ceilDiv(p.m, 4), p.kh*p.kw*p.kq
	_, _ = acc[(4*panels-1)*ldc+p.ldc()-1], q[p.qlen1-1]
	if ldc < p.ldc() || len(p.w16) != panels*nk*4 || len(p.offs16) != nk || p.kq*p.plane > p.qlen1 || p.ldc()%8 != 0 || nk == 0 {
		panic("intruntime: tapGemmAVX2: bad operands")
	}
	for pi := range panels {
		tapAVX2x4(&acc[4*pi*ldc], ldc, &p.w16[pi*nk*4], &q[0], &p.offs16[0], nk, p.ldc()/8)
	}
}

//go:noescape
func avx2x5(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)

//go:noescape
func avx2w16x4(c *int32, ldc int, w *uint64, b *byte, k4, gs, n, panels int)

// gemmAVX2 computes C = A·B (see gemm.go): weights that cannot saturate
// VPMADDUBSW five rows and one group at a time (10 ymm accumulators of Go
// assembly's 16), others as int16 (w16) four rows and half a group at a
// time. It panics (a programmer error) if c or b is too short for the
// call.
func gemmAVX2(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if ngroups == 0 {
		return
	}
	if a.w16 != nil {
		gs := a.k4 * blockSize
		panels := ceilDiv(a.m, 4)
		_, _ = b[ngroups*gs-1], c[(4*panels-1)*ldc+ngroups*laneCols-1]
		if ldc < ngroups*laneCols || len(a.w16) != panels*4*a.k4 || 4*panels > a.mpad {
			panic("intruntime: gemmAVX2: bad operands")
		}
		if a.k4 > 0 && panels > 0 { // the assembly runs a panel and a quad before it tests
			avx2w16x4(&c[0], ldc, &a.w16[0], &b[0], a.k4, gs, ngroups, panels)
		}
		return
	}
	gs := checkPanels("gemmAVX2", c, ldc, a, b, ngroups)
	for p := 0; p < a.mpad; p += 5 {
		avx2x5(&c[p*ldc], ldc, &a.w5[p*a.k4], &b[0], a.k4, gs, ngroups)
	}
}

//go:noescape
func avxvnni5(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)

// gemmAVXVNNI computes C = A·B (see gemm.go) five rows and one group at a
// time, as gemmAVX2 does, with VPDPBUSD (no split: it cannot saturate). It
// panics (a programmer error) if c or b is too short for the call.
func gemmAVXVNNI(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if ngroups == 0 {
		return
	}
	gs := checkPanels("gemmAVXVNNI", c, ldc, a, b, ngroups)
	for p := 0; p < a.mpad; p += 5 {
		avxvnni5(&c[p*ldc], ldc, &a.w5[p*a.k4], &b[0], a.k4, gs, ngroups)
	}
}

//go:noescape
func vnni5x4r8(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int)

//go:noescape
func vnni5x4f8(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int)

//go:noescape
func vnni5x4fs(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int)

//go:noescape
func vnni5x4nc(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int)

//go:noescape
func vnni5x1r8(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int)

//go:noescape
func vnni5x1nc(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int)

//go:noescape
func vnni5x1f8(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int)

//go:noescape
func vnni5x1fs(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int)

// vnni5x1Requant is vnni5x4Requant one group of 16 columns at a time, the
// last group's first last codes stored only.
func vnni5x1Requant(kind int, out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int) {
	switch kind {
	case rqRelu8:
		vnni5x1r8(out, chOut, w, b, k4, gs, n, rq, rows, last)
	case rqFloat8:
		vnni5x1f8(out, chOut, w, b, k4, gs, n, rq, rows, last)
	case rqFloatSym:
		vnni5x1fs(out, chOut, w, b, k4, gs, n, rq, rows, last)
	default:
		vnni5x1nc(out, chOut, w, b, k4, gs, n, rq, rows, last)
	}
}

// vnni5x4Requant is the vnni5x4 variant with the requantization of
// kernel kind in its epilogue (a direct call: rq stays on the caller's
// stack).
func vnni5x4Requant(kind int, out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int) {
	switch kind {
	case rqRelu8:
		vnni5x4r8(out, chOut, w, b, k4, gs, n, rq, rows)
	case rqFloat8:
		vnni5x4f8(out, chOut, w, b, k4, gs, n, rq, rows)
	case rqFloatSym:
		vnni5x4fs(out, chOut, w, b, k4, gs, n, rq, rows)
	default:
		vnni5x4nc(out, chOut, w, b, k4, gs, n, rq, rows)
	}
}

// gemmVNNIRequant is gemmVNNI and the requantization of its rows in one,
// for requantization kernel kind rqRelu8 or rqFloat8, or rqExact or
// rqFloatSym onto the whole byte range (every channel's lo 0 and hi 255:
// the packs' saturation is the clamp): for each 5-row panel the whole
// 64-column tiles within the first n columns go through vnni5x4Requant,
// the rest group by group through vnni5x1Requant, both requantizing in
// their epilogue (row m's n codes at out[m·chOut:], no int32 C), each
// panel by the float kernel where its channels allow it (kindRuns). rq's
// assembly operands must be 96 bytes apart (a short last panel's are
// copied into five). False, with nothing done, where a.kern is not the
// VNNI kernel or kind is not one of those.
func gemmVNNIRequant(out []uint8, chOut int, a *packedWeights, b []byte, ngroups, n int, rq []requantScalars, kind int) bool {
	if a.kern != kernVNNI || ngroups == 0 || n == 0 || len(rq) != a.m || unsafe.Sizeof(rq[0]) != 96 || n > ngroups*laneCols {
		return false
	}
	switch kind &^ rqMixed {
	case rqRelu8, rqFloat8:
	case rqExact, rqFloatSym:
		for i := range rq {
			if rq[i].lo != 0 || rq[i].hi != 255 {
				return false
			}
		}
	default:
		return false
	}
	gs := a.k4 * blockSize
	_ = b[ngroups*gs-1]
	if len(a.w5) != a.mpad*a.k4 || a.mpad%5 != 0 {
		panic("intruntime: gemmVNNIRequant: bad operands")
	}
	_ = out[(a.m-1)*chOut+n-1]
	full := n / 64 // whole tiles
	// The rest, group by group, the last one's columns under a mask.
	tail := ceilDiv(n-64*full, laneCols)
	last := n - 64*full - laneCols*max(tail-1, 0)
	// Each panel by the float kernel where its five channels allow it.
	kindRuns(rq, kind, 5, true, func(m0, m1, k int) {
		for p := m0; p < m1; p += 5 {
			w := &a.w5[p*a.k4]
			ops := &rq[p]
			if p+5 > len(rq) {
				// The float kernels load all five rows' biases.
				var pad [5]requantScalars
				copy(pad[:], rq[p:])
				ops = &pad[0]
			}
			rows := min(5, a.m-p)
			if full > 0 {
				vnni5x4Requant(k, &out[p*chOut], chOut, w, &b[0], a.k4, gs, full, ops, rows)
			}
			if tail > 0 {
				vnni5x1Requant(k, &out[p*chOut+64*full], chOut, w, &b[4*full*gs], a.k4, gs, tail, ops, rows, last)
			}
		}
	})
	return true
}
