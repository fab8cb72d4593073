package kernels

import "fmt"

// Implicit im2col for shifted geometries (stride 1, output as wide as the
// input: every 3×3 pad-1 convolution of the model zoo). Each row of the
// unfolded matrix is a source plane shifted by a constant, with zeros where
// the shifted position leaves the plane, so the GEMM can pack its B panels
// straight from the planes instead of from an im2col copy: one masked vector
// load per 16 columns, where the copy wrote and read the whole matrix once
// more (im2col and col2im were a quarter of a resnet20 training step).
//
// The same plan serves the input gradient: dx = Σ_(o,tap) W[o][c][tap] ·
// (dy[o] shifted back by the tap) is a GEMM over rows (o, tap) of shifted dy
// planes, which replaces dcol = Wᵀ·dy and col2im with one product and no
// scatter-add.

// shiftPlan describes the implicit k×n matrix B with
//
//	B[c·taps + t][q] = src[c·plane + q + off_t]   where tap t's shifted position is in the plane,
//	                 = 0                          elsewhere (and for q ≥ n),
//
// for a destination grid (hd, wd) and source planes (hs, ws) of the same
// pitch (wd = ws), so that the shift of a tap is one offset.
type shiftPlan struct {
	k, n, taps int
	srcLen     int     // floats of src the rows read
	rowOff     []int32 // per row: c·plane + off_t
	rowTap     []int32 // per row: t
	masks      []uint32
	// masks[p·(taps+1) + t] has bit l set when column 32p + l of tap t's
	// rows is inside the source plane (and below n); entry taps of each
	// panel is 0, the mask of a row that reads nothing (the padding rows
	// of a register-transposed block)
}

// maskStride is the distance between two panels' masks.
func (p *shiftPlan) maskStride() int { return p.taps + 1 }

// newShiftPlan plans ch source planes of hs×ws against a destination grid
// hd×wd (wd must equal ws), one row per (plane, shift), shifts as (dy, dx):
// destination (y, x) reads source (y+dy, x+dx).
func newShiftPlan(ch, hd, wd, hs, ws int, shifts [][2]int) (*shiftPlan, error) {
	if wd != ws || ch < 1 || hd < 1 || wd < 1 || hs < 1 || len(shifts) == 0 {
		return nil, fmt.Errorf("%w: shift plan: %d planes %dx%d onto %dx%d", ErrShape, ch, hs, ws, hd, wd)
	}
	plane := hs * ws
	n := hd * wd
	taps := len(shifts)
	if int64(ch)*int64(plane) > 1<<31-1 || int64(n)+int64(plane) > 1<<31-1 {
		return nil, fmt.Errorf("%w: shift plan: %d planes of %d floats exceed int32 offsets", ErrShape, ch, plane)
	}
	p := &shiftPlan{k: ch * taps, n: n, taps: taps, srcLen: ch * plane}
	p.rowOff = make([]int32, p.k)
	p.rowTap = make([]int32, p.k)
	for c := 0; c < ch; c++ {
		for t, s := range shifts {
			p.rowOff[c*taps+t] = int32(c*plane + s[0]*ws + s[1])
			p.rowTap[c*taps+t] = int32(t)
		}
	}
	panels := (n + nr - 1) / nr
	p.masks = make([]uint32, panels*(taps+1))
	for pi := 0; pi < panels; pi++ {
		for t, s := range shifts {
			var m uint32
			for l := 0; l < nr; l++ {
				q := pi*nr + l
				if q >= n {
					break
				}
				y, x := q/wd+s[0], q%wd+s[1]
				if y >= 0 && y < hs && x >= 0 && x < ws {
					m |= 1 << l
				}
			}
			p.masks[pi*(taps+1)+t] = m
		}
	}
	return p, nil
}

// convShifts returns the (dy, dx) of each tap (i, j) of a stride-1
// geometry, in im2col's row order; negated, the shifts of its input gradient.
func convShifts(g geom, negate bool) [][2]int {
	s := make([][2]int, 0, g.kh*g.kw)
	for i := 0; i < g.kh; i++ {
		for j := 0; j < g.kw; j++ {
			dy, dx := i*g.dh-g.ph, j*g.dw-g.pw
			if negate {
				dy, dx = -dy, -dx
			}
			s = append(s, [2]int{dy, dx})
		}
	}
	return s
}

// packShift writes rows pc..pc+kc−1 of the plan's matrix, columns
// q0..q0+31 (q0 a multiple of 32), as a kc×32 GEMM panel.
func packShift(fk floatKernel, panel, src []float32, p *shiftPlan, pc, kc, q0 int) {
	if kc <= 0 {
		return
	}
	if q0%nr != 0 || q0 < 0 || q0 >= p.n || pc < 0 || pc+kc > p.k || len(panel) < kc*nr || len(src) < p.srcLen {
		panic("kernels: packShift: panel, rows or source out of the plan's range")
	}
	masks := p.masks[q0/nr*p.maskStride():][:p.taps]
	if packShiftAsm(fk, panel, src, p.rowOff[pc:pc+kc], p.rowTap[pc:pc+kc], masks, q0) {
		return
	}
	packShiftGo(panel, src, p.rowOff[pc:pc+kc], p.rowTap[pc:pc+kc], masks, q0)
}

// packShiftGo is packShift's portable loop (and the reference of its
// vector forms).
func packShiftGo(panel, src []float32, rowOff, rowTap []int32, masks []uint32, q0 int) {
	for r := range rowOff {
		m := masks[rowTap[r]]
		off := int(rowOff[r]) + q0
		dst := panel[r*nr : r*nr+nr]
		for l := range dst {
			if m>>l&1 != 0 {
				dst[l] = src[off+l]
			} else {
				dst[l] = 0
			}
		}
	}
}

// at is element (r, q) of the plan's matrix over src.
func (p *shiftPlan) at(src []float32, r, q int) float32 {
	if p.masks[q/nr*p.maskStride()+int(p.rowTap[r])]>>(q%nr)&1 == 0 {
		return 0
	}
	return src[int(p.rowOff[r])+q]
}

// packShiftT writes the transposed panel of the plan's rows r0..r0+nrows−1
// (nrows ≤ 32) and columns pc..pc+kc−1: panel[i·32 + j] = B[r0+j][pc+i],
// zero for j ≥ nrows. It is the B packing of dW = dy·colᵀ.
func packShiftT(fk floatKernel, panel, src []float32, p *shiftPlan, r0, nrows, pc, kc int) {
	if kc <= 0 || nrows <= 0 {
		return
	}
	if nrows > nr || r0 < 0 || r0+nrows > p.k || pc < 0 || pc+kc > p.n || len(panel) < kc*nr || len(src) < p.srcLen {
		panic("kernels: packShiftT: panel, rows or source out of the plan's range")
	}
	if nrows < nr {
		clear(panel[:kc*nr])
	}
	if packShiftTAsm(fk, panel, src, p, r0, nrows, pc, kc) {
		return
	}
	for j := 0; j < nrows; j++ {
		for i := 0; i < kc; i++ {
			panel[i*nr+j] = p.at(src, r0+j, pc+i)
		}
	}
}

// Stride-2 convolutions (resnet20's downsampling 3×3 layers) as shifted
// ones: with x's planes split into their four phases, P_(a,b)[i][j]
// = x[2i+a][2j+b] (phaseSplit), output (y, x) of tap (ky, kx) reads phase
// ((ky−p) mod 2, (kx−p) mod 2) at (y, x) shifted by ((ky−p) div 2, (kx−p)
// div 2), a shift of −1 or 0 on the output grid: a shift plan whose rows
// (c, tap) start at the tap's phase plane of channel c. The GEMM then packs
// its B panels from the phase planes as for stride 1, where the explicit
// im2col wrote and read the unfolded matrix once more (an evaluation
// graph's stride-2 layers ran at 100–130 GFLOP/s, a third of it in the
// unfolding and its copy into the GEMM's panels).

// newStride2Plan plans a k×k convolution of stride 2 padded by pad (3×3
// padded by 1 in convState.stride2) over c phase-split planes onto an
// oh×ow output grid, phases oh×ow each, laid out phase by phase
// (phaseSplit).
func newStride2Plan(c, k, pad, oh, ow int) (*shiftPlan, error) {
	var shifts [][2]int
	var phase []int
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			ry, rx := ky-pad, kx-pad
			py, px := ry&1, rx&1
			shifts = append(shifts, [2]int{(ry - py) / 2, (rx - px) / 2})
			phase = append(phase, 2*py+px)
		}
	}
	base, err := newShiftPlan(1, oh, ow, oh, ow, shifts)
	if err != nil {
		return nil, err
	}
	plane, taps := oh*ow, len(shifts)
	if int64(4*c)*int64(plane) > 1<<31-1 {
		return nil, fmt.Errorf("%w: stride-2 plan: %d planes of %d floats exceed int32 offsets", ErrShape, 4*c, plane)
	}
	p := &shiftPlan{k: c * taps, n: plane, taps: taps, srcLen: 4 * c * plane, masks: base.masks}
	p.rowOff = make([]int32, p.k)
	p.rowTap = make([]int32, p.k)
	for ci := 0; ci < c; ci++ {
		for t, s := range shifts {
			p.rowOff[ci*taps+t] = int32((phase[t]*c+ci)*plane + s[0]*ow + s[1])
			p.rowTap[ci*taps+t] = int32(t)
		}
	}
	return p, nil
}

// phaseSplit writes the four phases of x's c planes of h×w (h and w even)
// into dst, phase (a, b) = 2a + b: dst[((2a+b)·c + ch)·plane + i·(w/2) + j]
// = x[ch][2i+a][2j+b], by the row loops of useRows32 (which
// convState.stride2 requires): the even rows of all planes are one row
// sequence of pitch 2w, the odd ones another.
func phaseSplit(dst, x []float32, c, h, w int) {
	oh, ow := h/2, w/2
	plane := oh * ow
	_, _ = dst[4*c*plane-1], x[c*h*w-1]
	m := rowMasks2(w)
	deint2RowsAVX2(&dst[0], &dst[c*plane], &x[0], c*oh, w, ow, 2*w, &m)
	deint2RowsAVX2(&dst[2*c*plane], &dst[3*c*plane], &x[w], c*oh, w, ow, 2*w, &m)
}
