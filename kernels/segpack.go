package kernels

import "fmt"

// Implicit im2col for unpadded stride-1 convolutions whose output is
// narrower than the input (LeNet-5's 5×5 "valid" convolutions), which the
// shift plans (shiftpack.go) do not cover: output q = (oy, ox) of row
// (c, i, j) reads src[c·plane + i·dh·w + j·dw + oy·w + ox], so within an
// output row the columns are a contiguous run of the plane, and a 32-column
// GEMM panel is a few such runs. The forward packs its B panels straight
// from the planes, a masked load per run and half panel, instead of
// writing im2col's matrix and copying it into the panels (the two passes
// were 15% of a LeNet-5 step).

// segPlan describes the implicit k×n matrix B with B[r][q] =
// src[rowOff[r] + colOff(q)], colOff(q) = (q/ow)·w + q mod ow, and 0 for
// q ≥ n.
type segPlan struct {
	k, n   int
	srcLen int
	rowOff []int32
	// segs[segAt[2p+h]:segAt[2p+h+1]] are the runs of half h of panel p:
	// lanes l (mask bit l) of columns 32p + 16h + l read src[rowOff[r] +
	// delta + l].
	segs  []segRun
	segAt []int32
}

// segRun is one run of a half panel.
type segRun struct {
	mask  uint32 // lanes 0–15
	delta int32
}

// newSegPlan plans the unfolding of ch planes of h×w by a kh×kw kernel of
// dilation (dh, dw), stride 1, no padding.
func newSegPlan(ch, h, w, kh, kw, dh, dw int) (*segPlan, error) {
	oh, ow := h-(kh-1)*dh, w-(kw-1)*dw
	if ch < 1 || oh < 1 || ow < 1 {
		return nil, fmt.Errorf("%w: segment plan: %d planes %dx%d, kernel %dx%d", ErrShape, ch, h, w, kh, kw)
	}
	if int64(ch)*int64(h*w) > 1<<31-1 {
		return nil, fmt.Errorf("%w: segment plan: %d planes of %d floats exceed int32 offsets", ErrShape, ch, h*w)
	}
	p := &segPlan{k: ch * kh * kw, n: oh * ow, srcLen: ch * h * w}
	p.rowOff = make([]int32, 0, p.k)
	for c := 0; c < ch; c++ {
		for i := 0; i < kh; i++ {
			for j := 0; j < kw; j++ {
				p.rowOff = append(p.rowOff, int32(c*h*w+i*dh*w+j*dw))
			}
		}
	}
	panels := (p.n + nr - 1) / nr
	p.segAt = make([]int32, 0, 2*panels+1)
	for half := 0; half < 2*panels; half++ {
		p.segAt = append(p.segAt, int32(len(p.segs)))
		for l := 0; l < 16; {
			q := half*16 + l
			if q >= p.n {
				break
			}
			run := min(ow-q%ow, 16-l, p.n-q)
			p.segs = append(p.segs, segRun{mask: (1<<run - 1) << l, delta: int32((q/ow)*w + q%ow - l)})
			l += run
		}
	}
	p.segAt = append(p.segAt, int32(len(p.segs)))
	return p, nil
}

// packSeg writes rows pc..pc+kc−1 of the plan's matrix, columns q0..q0+31
// (q0 a multiple of 32), as a kc×32 GEMM panel.
func packSeg(fk floatKernel, panel, src []float32, p *segPlan, pc, kc, q0 int) {
	if kc <= 0 {
		return
	}
	if q0%nr != 0 || q0 < 0 || q0 >= p.n || pc < 0 || pc+kc > p.k || len(panel) < kc*nr || len(src) < p.srcLen {
		panic("kernels: packSeg: panel, rows or source out of the plan's range")
	}
	h := 2 * (q0 / nr)
	segs := p.segs[p.segAt[h]:p.segAt[h+2]]
	split := int(p.segAt[h+1] - p.segAt[h])
	if packSegAsm(fk, panel, src, p.rowOff[pc:pc+kc], segs, split) {
		return
	}
	packSegGo(panel, src, p.rowOff[pc:pc+kc], segs, split)
}

// packSegGo is packSeg's portable loop (and the reference of its vector
// form): segs[:split] fill lanes 0–15 of each panel row, the rest 16–31.
func packSegGo(panel, src []float32, rowOff []int32, segs []segRun, split int) {
	for r, off := range rowOff {
		dst := panel[r*nr : r*nr+nr]
		clear(dst)
		for s, sg := range segs {
			base := 0
			if s >= split {
				base = 16
			}
			for l := range 16 {
				if sg.mask>>l&1 != 0 {
					dst[base+l] = src[int(off)+int(sg.delta)+l]
				}
			}
		}
	}
}
