package kernels

// The packed, blocked GEMM of the SIMD kernels: A and B are packed into
// panels that a 4×32 microkernel (Go assembly, gemm_amd64.s; on AVX-512 two
// A panels at a time, 8×32) walks.

// Microkernel tile: 4 rows × 32 columns, 8 zmm accumulators (AVX-512) or
// two passes of 8 ymm (AVX2).
const (
	mr = 4
	nr = 32
)

// Blocking sizes of the packed GEMM. KC×NR floats of packed B (32 KiB at
// KC=256, NR=32) stay in L1 while the microkernel walks the packed A panels;
// an MC×KC block of A stays in L2.
const (
	blockKC = 256
	blockMC = 96
	blockNC = 3072
)

// gemmScratch holds the packing buffers of A and B.
type gemmScratch struct {
	pa, pb []float32
}

func (g *Gemm) sgemm(c []float32, ldc int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32) {
	fk := g.kernel()
	if fk == fkGonum {
		sgemmGonum(c, ldc, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta)
		return
	}
	// A narrow C (fc2's 64×10) wastes most of a 32-wide microkernel: compute
	// Cᵀ = op(B)ᵀ·op(A)ᵀ instead, which packs the same data with the roles
	// swapped and stores the tile transposed.
	if n < nr/2 && m > n {
		g.pack(fk, &g.pa, b, ldb, !tB, n, k)
		g.run(fk, c, 1, ldc, n, m, k, alpha, bSource{b: a, ldb: lda, tB: !tA}, beta)
		return
	}
	g.pack(fk, &g.pa, a, lda, tA, m, k)
	g.run(fk, c, ldc, 1, m, n, k, alpha, bSource{b: b, ldb: ldb, tB: tB}, beta)
}

func (g *Gemm) packA(p *PackedA, tA bool, a []float32, lda int) {
	p.kern = g.kernel()
	if p.kern == fkGonum {
		packAGonum(p, tA, a, lda)
		return
	}
	g.pack(p.kern, &p.data, a, lda, tA, p.m, p.k)
}

func (g *Gemm) sgemmPacked(c []float32, ldc int, p *PackedA, tB bool, n int, alpha float32, b []float32, ldb int, beta float32) {
	if p.kern == fkGonum {
		sgemmPackedGonum(c, ldc, p, tB, n, alpha, b, ldb, beta)
		return
	}
	saved := g.pa
	g.pa = p.data
	g.run(p.kern, c, ldc, 1, p.m, n, p.k, alpha, bSource{b: b, ldb: ldb, tB: tB}, beta)
	g.pa = saved
}

// sgemmPackedShift computes C = A·B + beta·C with A packed by PackA (for a
// SIMD kernel with implicitIm2col) and B the implicit matrix of plan over
// src.
func (g *Gemm) sgemmPackedShift(c []float32, ldc int, p *PackedA, src []float32, plan *shiftPlan, beta float32) {
	g.sgemmPackedFrom(c, ldc, p, bSource{b: src, shift: plan}, plan.k, plan.n, implicitIm2col(p.kern), beta)
}

// sgemmPackedSeg computes C = A·B + beta·C with A packed by PackA (for a
// kernel with segIm2col) and B the implicit matrix of plan over src.
func (g *Gemm) sgemmPackedSeg(c []float32, ldc int, p *PackedA, src []float32, plan *segPlan, beta float32) {
	g.sgemmPackedFrom(c, ldc, p, bSource{b: src, seg: plan}, plan.k, plan.n, segIm2col(p.kern), beta)
}

// sgemmPackedFrom computes C = A·B + beta·C with A packed by PackA and B
// the implicit k×n matrix of a plan (src), which A's kernel must pack.
func (g *Gemm) sgemmPackedFrom(c []float32, ldc int, p *PackedA, src bSource, k, n int, packs bool, beta float32) {
	if p.k != k || !packs {
		panic("kernels: sgemmPacked: A does not match the plan or its kernel cannot pack the plan's panels")
	}
	m := p.m
	if m <= 0 {
		return
	}
	checkMat("C", c, m, n, ldc)
	saved := g.pa
	g.pa = p.data
	g.run(p.kern, c, ldc, 1, m, n, p.k, 1, src, beta)
	g.pa = saved
}

// sgemmShiftT computes C = A·Bᵀ + beta·C for A (m×plan.n, row stride lda)
// and B the implicit matrix of plan over src (a convolution's weight
// gradient dy·colᵀ), with g's kernel, which must have implicitIm2colT.
func (g *Gemm) sgemmShiftT(c []float32, ldc, m int, a []float32, lda int, src []float32, plan *shiftPlan, beta float32) {
	fk := g.kernel()
	if !implicitIm2colT(fk) {
		panic("kernels: sgemmShiftT: the kernel has no transposed implicit packing")
	}
	if m <= 0 {
		return
	}
	n, k := plan.k, plan.n
	checkMat("C", c, m, n, ldc)
	checkMat("A", a, m, k, lda)
	g.pack(fk, &g.pa, a, lda, false, m, k)
	g.run(fk, c, ldc, 1, m, n, k, 1, bSource{b: src, shift: plan, shiftT: true}, beta)
}

// bSource is the B operand of run: op(B) of the matrix b (k×n; n×k when
// tB), or the implicit matrix of shift over b (its transpose when shiftT).
type bSource struct {
	b      []float32
	ldb    int
	tB     bool
	shift  *shiftPlan
	shiftT bool
	seg    *segPlan
}

// pack writes op(X) (rows×k, X is k×rows when t) into *dst as the A operand
// of the microkernel: for each KC block of k, panels of mr rows, each panel
// kc×mr with the mr values of one k index adjacent; rows past the end are 0.
func (g *Gemm) pack(fk floatKernel, dst *[]float32, x []float32, ld int, t bool, rows, k int) {
	rowsUp := (rows + mr - 1) / mr * mr
	need := rowsUp * k
	if cap(*dst) < need {
		*dst = make([]float32, need)
	}
	d := (*dst)[:need]
	for pc := 0; pc < k; pc += blockKC {
		kc := min(blockKC, k-pc)
		base := pc * rowsUp
		for ir := 0; ir < rowsUp; ir += mr {
			panel := d[base+ir*kc : base+ir*kc+kc*mr]
			packPanel(fk, panel, x, ld, t, ir, min(mr, rows-ir), pc, kc, mr)
		}
	}
}

// packPanel copies rows r0..r0+nrows-1 of op(X), k indices pc..pc+kc-1, into
// panel as kc groups of width w (zero padded past nrows).
func packPanel(fk floatKernel, panel, x []float32, ld int, t bool, r0, nrows, pc, kc, w int) {
	if nrows < w {
		clear(panel)
	}
	if t {
		// op(X)[r][p] = x[p*ld + r]: rows of op(X) are contiguous along r.
		if w == 32 && nrows == 32 && copyPanel32(panel, x[pc*ld+r0:], ld, kc) {
			return
		}
		for p := 0; p < kc; p++ {
			src := x[(pc+p)*ld+r0:]
			copy(panel[p*w:p*w+nrows], src[:nrows])
		}
		return
	}
	// op(X)[r][p] = x[r*ld + p]: a transpose. Blocks of 16 rows × 16 k
	// (AVX-512) or 8 × 8 (AVX2) go through registers; the rest is scattered
	// one by one.
	rows16, kc16 := 0, 0
	switch {
	case (fk == fkAVX512 || fk == fkAVX2) && w == 4 && nrows == 4:
		// the microkernel's A panels: 4 rows, 8 k per register transpose
		rows16, kc16 = 4, transpose4(panel, x, ld, r0, pc, kc)
	case fk == fkAVX512 && w%16 == 0:
		rows16, kc16 = nrows&^15, kc&^15
		if rows16 > 0 && kc16 > 0 {
			transpose16(panel, x, ld, r0, rows16, pc, kc16, w)
		}
	case fk == fkAVX2 && w%8 == 0:
		rows16, kc16 = nrows&^7, kc&^7
		if rows16 > 0 && kc16 > 0 {
			transpose8(panel, x, ld, r0, rows16, pc, kc16, w)
		}
	}
	for r := 0; r < nrows; r++ {
		start := 0
		if r < rows16 {
			start = kc16
		}
		src := x[(r0+r)*ld+pc : (r0+r)*ld+pc+kc]
		for p := start; p < kc; p++ {
			panel[p*w+r] = src[p]
		}
	}
}

// run multiplies the A already packed in g.pa (m×k) by op(B) (k×n), storing
// into C with row stride rsc and column stride csc.
func (g *Gemm) run(fk floatKernel, c []float32, rsc, csc, m, n, k int, alpha float32, src bSource, beta float32) {
	b, ldb, tB := src.b, src.ldb, src.tB
	mUp := (m + mr - 1) / mr * mr
	var tile [mr * nr]float32
	for jc := 0; jc < n; jc += blockNC {
		ncb := min(blockNC, n-jc)
		ncUp := (ncb + nr - 1) / nr * nr
		for pc := 0; pc < k; pc += blockKC {
			kc := min(blockKC, k-pc)
			// Pack op(B)[pc:pc+kc, jc:jc+ncb] as panels of nr columns:
			// op(B) columns are op(B)ᵀ rows, so this is pack with t flipped.
			need := ncUp * kc
			if cap(g.pb) < need {
				g.pb = make([]float32, need)
			}
			pb := g.pb[:need]
			for jr := 0; jr < ncb; jr += nr {
				switch {
				case src.shiftT:
					packShiftT(fk, pb[jr*kc:jr*kc+kc*nr], b, src.shift, jc+jr, min(nr, ncb-jr), pc, kc)
					continue
				case src.shift != nil:
					packShift(fk, pb[jr*kc:jr*kc+kc*nr], b, src.shift, pc, kc, jc+jr)
					continue
				case src.seg != nil:
					packSeg(fk, pb[jr*kc:jr*kc+kc*nr], b, src.seg, pc, kc, jc+jr)
					continue
				}
				packPanel(fk, pb[jr*kc:jr*kc+kc*nr], b[jc*bStride(tB, ldb):], ldb, !tB, jr, min(nr, ncb-jr), pc, kc, nr)
			}
			first := pc == 0
			pa := g.pa[pc*mUp:]
			for ic := 0; ic < m; ic += blockMC {
				mcb := min(blockMC, m-ic)
				for jr := 0; jr < ncb; jr += nr {
					bp := pb[jr*kc : jr*kc+kc*nr]
					nn := min(nr, ncb-jr)
					for ir := ic; ir < ic+mcb; ir += mr {
						ap := pa[ir*kc : ir*kc+kc*mr]
						mm := min(mr, m-ir)
						off := ir*rsc + (jc+jr)*csc
						if mm == mr && csc == 1 && (!first || beta == 0 || beta == 1) {
							// Two full A panels share each B load where
							// the kernel has the registers for it.
							if ir+2*mr <= min(ic+mcb, m) && kernelPair(fk, kc, ap, pa[(ir+mr)*kc:(ir+mr)*kc+kc*mr], bp, c[off:], rsc, alpha, !first || beta == 1, nn) {
								ir += mr
								continue
							}
							if nn == nr {
								kernelFull(fk, kc, ap, bp, c[off:], rsc, alpha, !first || beta == 1)
								continue
							}
							if kernelCols(fk, kc, ap, bp, c[off:], rsc, alpha, !first || beta == 1, nn) {
								continue
							}
						}
						kernelTile(fk, kc, ap, bp, &tile)
						storeTile(c[off:], rsc, csc, mm, nn, &tile, alpha, beta, first)
					}
				}
			}
		}
	}
}

// bStride is the distance in b between consecutive columns of op(B).
func bStride(tB bool, ldb int) int {
	if tB {
		return ldb
	}
	return 1
}

// storeTile adds alpha·tile into the mm×nn corner of C; on the first K block
// C is first scaled by beta.
func storeTile(c []float32, rsc, csc, mm, nn int, tile *[mr * nr]float32, alpha, beta float32, first bool) {
	for i := 0; i < mm; i++ {
		row := tile[i*nr : i*nr+nn]
		for j, v := range row {
			p := &c[i*rsc+j*csc]
			switch {
			case !first || beta == 1:
				*p += alpha * v
			case beta == 0:
				*p = alpha * v
			default:
				*p = beta**p + alpha*v
			}
		}
	}
}

// kernelTileGeneric is the portable microkernel: tile = Apanel·Bpanel over kc.
func kernelTileGeneric(kc int, a, b []float32, tile *[mr * nr]float32) {
	clear(tile[:])
	for p := 0; p < kc; p++ {
		bp := b[p*nr : p*nr+nr]
		ap := a[p*mr : p*mr+mr]
		for i, av := range ap {
			row := tile[i*nr : i*nr+nr]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
}
