package kernels

import "github.com/qatgo/qatgo/internal/cpufeat"

// floatKernelFor picks the float32 GEMM for a CPU with features f.
func floatKernelFor(f cpufeat.Features) floatKernel {
	switch {
	case f.AVX512:
		return fkAVX512
	case f.AVX2:
		return fkAVX2
	}
	return fkGonum
}

//go:noescape
func sgemm4x32avx512(kc int, a, b, c *float32, ldc int, alpha float32, acc int, cols int)

//go:noescape
func sgemm8x32avx512(kc int, a, a2, b, c *float32, ldc int, alpha float32, acc int, cols int)

//go:noescape
func sgemm4x32avx2(kc int, a, b, c *float32, ldc int, alpha float32, acc int)

//go:noescape
func transpose16avx512(dst *float32, ldd int, src *float32, lds int, idx *[8][16]uint32)

// microkernel runs fk's 4×32 microkernel: C (row stride ldc) = alpha·A·B,
// or C += alpha·A·B when acc, for kc-step panels a and b. It panics (a
// programmer error) on panels or a C too short.
func microkernel(fk floatKernel, kc int, a, b, c []float32, ldc int, alpha float32, acc bool) {
	if kc <= 0 {
		panic("kernels: microkernel: kc ≤ 0")
	}
	_, _, _ = a[kc*mr-1], b[kc*nr-1], c[(mr-1)*ldc+nr-1]
	ac := 0
	if acc {
		ac = 1
	}
	if fk == fkAVX512 {
		sgemm4x32avx512(kc, &a[0], &b[0], &c[0], ldc, alpha, ac, nr)
		return
	}
	sgemm4x32avx2(kc, &a[0], &b[0], &c[0], ldc, alpha, ac)
}

// kernelFull computes a full tile into C (row stride ldc): C += alpha·A·B when
// acc, else C = alpha·A·B.
func kernelFull(fk floatKernel, kc int, a, b, c []float32, ldc int, alpha float32, acc bool) {
	microkernel(fk, kc, a, b, c, ldc, alpha, acc)
}

// kernelCols computes the first cols (≤ 32) columns of a tile into C (row
// stride ldc) as kernelFull does, storing straight into C through the
// column mask of the AVX-512 kernel; false (nothing done) for other
// kernels, which go through kernelTile and storeTile.
func kernelCols(fk floatKernel, kc int, a, b, c []float32, ldc int, alpha float32, acc bool, cols int) bool {
	if fk != fkAVX512 {
		return false
	}
	if kc <= 0 || cols < 1 || cols > nr {
		panic("kernels: kernelCols: kc ≤ 0 or columns outside 1..32")
	}
	_, _, _ = a[kc*mr-1], b[kc*nr-1], c[(mr-1)*ldc+cols-1]
	ac := 0
	if acc {
		ac = 1
	}
	sgemm4x32avx512(kc, &a[0], &b[0], &c[0], ldc, alpha, ac, cols)
	return true
}

// kernelPair computes the first cols (≤ 32) columns of two stacked tiles
// (A panels a and a2, rows 0–3 and 4–7 of C) as two kernelCols calls would,
// to the bit, in one pass over B (the 8×32 AVX-512 kernel: 16 accumulators,
// 12% faster in L1 than two 4×32 calls); false (nothing done) for other
// kernels.
func kernelPair(fk floatKernel, kc int, a, a2, b, c []float32, ldc int, alpha float32, acc bool, cols int) bool {
	if fk != fkAVX512 {
		return false
	}
	if kc <= 0 || cols < 1 || cols > nr {
		panic("kernels: kernelPair: kc ≤ 0 or columns outside 1..32")
	}
	_, _, _, _ = a[kc*mr-1], a2[kc*mr-1], b[kc*nr-1], c[(2*mr-1)*ldc+cols-1]
	ac := 0
	if acc {
		ac = 1
	}
	sgemm8x32avx512(kc, &a[0], &a2[0], &b[0], &c[0], ldc, alpha, ac, cols)
	return true
}

// kernelTile computes tile = A·B (a tile at C's edge, stored by storeTile).
func kernelTile(fk floatKernel, kc int, a, b []float32, tile *[mr * nr]float32) {
	microkernel(fk, kc, a, b, tile[:], nr, 1, false)
}

// transIdx holds, for each bit b of a lane index, the two VPERMT2PS index
// vectors that swap bit b between the row and the lane (column) of a 16×16
// block held as 16 vectors: for rows r (bit b clear) and r+2^b,
//
//	new[r][c]     = c_b == 0 ? old[r][c]     : old[r+2^b][c-2^b]
//	new[r+2^b][c] = c_b == 0 ? old[r][c+2^b] : old[r+2^b][c]
//
// (lane indices 16–31 select from the second vector). Swapping all four bits
// transposes the block. Computed once, never written after.
var transIdx = func() (t [8][16]uint32) {
	for b := 0; b < 4; b++ {
		h := uint32(1) << b
		for c := uint32(0); c < 16; c++ {
			if c&h == 0 {
				t[2*b][c], t[2*b+1][c] = c, c+h
			} else {
				t[2*b][c], t[2*b+1][c] = 16+c-h, 16+c
			}
		}
	}
	return t
}()

// transpose16 writes panel[p*w + r] = x[(r0+r)*ld + pc+p] for r < rows and
// p < kc, both multiples of 16, 16×16 blocks at a time in registers: the
// transposed packing of B for dW = dy·colᵀ and a linear layer's x·Wᵀ, which
// as a scalar scatter was a fifth of a LeNet-5 step.
func transpose16(panel, x []float32, ld, r0, rows, pc, kc, w int) {
	if rows <= 0 || kc <= 0 {
		return
	}
	_ = x[(r0+rows-1)*ld+pc+kc-1]
	_ = panel[(kc-1)*w+rows-1]
	for rb := 0; rb < rows; rb += 16 {
		for pb := 0; pb < kc; pb += 16 {
			transpose16avx512(&panel[pb*w+rb], w, &x[(r0+rb)*ld+pc+pb], ld, &transIdx)
		}
	}
}

//go:noescape
func packShift32avx512(dst, src *float32, rowOff, rowTap *int32, masks *uint32, kc, q0 int)

// packShiftAsm packs an implicit-im2col panel by masked AVX-512 or AVX2
// loads (the masked-off lanes, padding, may lie outside src: masked loads
// do not fault there); false for other kernels. packShift checked the
// ranges.
func packShiftAsm(fk floatKernel, panel, src []float32, rowOff, rowTap []int32, masks []uint32, q0 int) bool {
	switch fk {
	case fkAVX512:
		packShift32avx512(&panel[0], &src[0], &rowOff[0], &rowTap[0], &masks[0], len(rowOff), q0)
	case fkAVX2:
		packShift32avx2(&panel[0], &src[0], &rowOff[0], &rowTap[0], &masks[0], len(rowOff), q0)
	default:
		return false
	}
	return true
}

//go:noescape
func packSeg32avx512(dst, src *float32, rowOff *int32, kc int, segs *segRun, nseg0, nseg1 int)

// packSegAsm packs a segment plan's panel by merge-masked AVX-512 loads;
// false for other kernels. packSeg checked the ranges; the runs' lanes lie
// inside src.
func packSegAsm(fk floatKernel, panel, src []float32, rowOff []int32, segs []segRun, split int) bool {
	if fk != fkAVX512 {
		return false
	}
	_ = panel[len(rowOff)*nr-1]
	var sp *segRun
	if len(segs) > 0 {
		sp = &segs[0]
	}
	packSeg32avx512(&panel[0], &src[0], &rowOff[0], len(rowOff), sp, split, len(segs)-split)
	return true
}

//go:noescape
func packShift32avx2(dst, src *float32, rowOff, rowTap *int32, masks *uint32, kc, q0 int)

//go:noescape
func transposeShift16avx512(dst *float32, ldd int, src *float32, rowOff, rowTap *int32, masks *uint32, q int, idx *[8][16]uint32)

// packShiftTAsm packs a transposed implicit-im2col panel (packShiftT) in
// blocks transposed in registers — 16×16 by masked AVX-512 loads, 8×8 by
// AVX2's VMASKMOVPS: a block short of rows reads the plan's empty mask for
// the missing ones (zero lanes, as the panel wants them), one short of
// columns is transposed into a scratch tile and its rows copied. False for
// other kernels and for pc off a block boundary (run's K blocks are
// multiples of 16), where packShiftT's loop runs. packShiftT checked the
// ranges.
func packShiftTAsm(fk floatKernel, panel, src []float32, p *shiftPlan, r0, nrows, pc, kc int) bool {
	blk := 16
	switch fk {
	case fkAVX512:
	case fkAVX2:
		blk = 8
	default:
		return false
	}
	if pc%blk != 0 {
		return false
	}
	stride := p.maskStride()
	var offs, taps [16]int32
	var tile [16 * nr]float32
	for rb := 0; rb < nrows; rb += blk {
		ro, rt := p.rowOff[r0+rb:], p.rowTap[r0+rb:]
		if m := nrows - rb; m < blk {
			copy(offs[:], ro[:m])
			copy(taps[:], rt[:m])
			for i := m; i < blk; i++ {
				offs[i], taps[i] = 0, int32(p.taps)
			}
			ro, rt = offs[:], taps[:]
		}
		for pb := 0; pb < kc; pb += blk {
			q := pc + pb
			ms := &p.masks[q/nr*stride]
			dst, ldd := panel[pb*nr+rb:], nr
			if kc-pb < blk {
				// A block's last columns: the lanes past them are in the
				// plane or masked off past n; keep the kc−pb rows wanted.
				dst = tile[:]
			}
			if blk == 16 {
				transposeShift16avx512(&dst[0], ldd, &src[0], &ro[0], &rt[0], ms, q, &transIdx)
			} else {
				transposeShift8avx2(&dst[0], ldd, &src[0], &ro[0], &rt[0], ms, q)
			}
			if kc-pb < blk {
				for i := 0; i < kc-pb; i++ {
					copy(panel[(pb+i)*nr+rb:(pb+i)*nr+rb+blk], tile[i*nr:i*nr+blk])
				}
			}
		}
	}
	return true
}

//go:noescape
func transpose8avx2(dst *float32, ldd int, src *float32, lds int, nblk int)

// transpose8 is transpose16 in 8×8 blocks for AVX2 (rows and kc multiples
// of 8), a row of blocks per call.
func transpose8(panel, x []float32, ld, r0, rows, pc, kc, w int) {
	if rows <= 0 || kc <= 0 {
		return
	}
	_ = x[(r0+rows-1)*ld+pc+kc-1]
	_ = panel[(kc-1)*w+rows-1]
	for rb := 0; rb < rows; rb += 8 {
		transpose8avx2(&panel[rb], w, &x[(r0+rb)*ld+pc], ld, kc/8)
	}
}

//go:noescape
func transpose4x8avx2(dst *float32, src *float32, ld, blocks int)

// transpose4 packs 4 rows of x (r0.., ld apart), k from pc, as a width-4
// A panel for k in pc..pc+8·(kc/8)−1 by the AVX2 loop and returns how many
// k it packed (0 without AVX2: packPanel's scalar loop does the rest).
func transpose4(panel, x []float32, ld, r0, pc, kc int) int {
	kc8 := kc &^ 7
	if !useAVX2 || kc8 == 0 {
		return 0
	}
	_ = x[(r0+3)*ld+pc+kc8-1]
	_ = panel[4*kc8-1]
	transpose4x8avx2(&panel[0], &x[r0*ld+pc], ld, kc8/8)
	return kc8
}

//go:noescape
func transposeShift8avx2(dst *float32, ldd int, src *float32, rowOff, rowTap *int32, masks *uint32, q int)

// implicitIm2col reports whether fk packs shifted convolutions straight
// from their planes (shiftpack.go) in their forward and input gradient;
// the others unfold with im2col.
func implicitIm2col(fk floatKernel) bool { return fk == fkAVX512 || fk == fkAVX2 }

// segIm2col reports whether fk packs segment plans' panels from the planes
// (merge-masked loads: AVX-512 only; AVX2's masked loads cannot merge).
func segIm2col(fk floatKernel) bool { return fk == fkAVX512 }

// implicitIm2colT reports whether fk also packs the weight gradient's
// transposed colᵀ from the planes (register transposes).
func implicitIm2colT(fk floatKernel) bool { return fk == fkAVX512 || fk == fkAVX2 }
