package intruntime

import (
	"math"
	"slices"

	"github.com/qatgo/qatgo/intmodel"
)

// Convolutions run in chunks of a few images, so that the packed B operand
// and the int32 accumulators of a chunk stay in the L2 cache between the
// packing, the GEMM and the requantization (whole-batch buffers were
// megabytes: conv1's accumulators alone 12 MB at batch 256).
//
// Packing: when every 64-byte B block (16 output columns × one k-quad) of
// an image takes its bytes from at most two 64-byte windows of the input
// (one channel plane within 128 bytes, or two planes within 64 bytes
// each), the block is one byte permutation of two loads (VPERMI2B; on
// CPUs without it, VPSHUFB on the 16-byte chunks the block uses), planned
// once per layer: directPlan; padded positions take the zero point.
// Otherwise im2col rows are built and interleaved (packConv).
//
// A 2×2 stride-2 max pool that follows a convolution is fused into its
// requantization: the pool takes the maximum of the int32 accumulators,
// then only the maxima are requantized. This is exact because the
// requantization y(a) = clamp(RDBP(SRDHM(sat(a + bias), M0), e) + Z, lo, hi)
// is non-decreasing in a for M0 ≥ 0 (every step is: saturation, the
// product with M0 ≥ 0, SRDHM's round-to-nearest division, RoundingDivideByPOT,
// the addition and the clamp), so y(max a) = max y(a).

// chunkBytes is the budget of one conv chunk's packed B plus accumulators.
const chunkBytes = 192 << 10

// slack is the extra capacity of every activation buffer: direct packing
// loads 64-byte windows that may run past the last plane's end.
const slack = 128

// packEntry plans one B block of one image: bytes from two 64-byte
// windows, window i at offset off[i] inside the plane of channel c[i], and
// the permutation idx into their concatenation; where bit i of pad is set,
// byte i is the convolution's padding (the input zero point) instead.
type packEntry struct {
	c, off [2]int32
	idx    [blockSize]uint8
	pad    uint64
}

// packPlan is a layer's direct packing plan: entries[gi·k4 + q] for group
// gi of an image and quad q, and the furthest window any entry reads.
type packPlan struct {
	entries []packEntry
	// top is the largest (channel, offset) of any window, lexicographically:
	// with offsets below the plane size its window ends last, at
	// (top[0]·n + b)·hw + top[1] + 64 for image b of n.
	top [2]int32
	zx  uint8 // the padding's byte (the input zero point)
	// The same permutations for CPUs without VPERMI2B: entry i is
	// chunks[start[i]:start[i+1]], one VPSHUFB pair per 16-byte chunk of
	// the windows that the entry's bytes come from.
	chunks []shufChunk
	start  []int32
}

// shufChunk is 16 bytes of a window, read at offset off of plane c and
// broadcast to both 128-bit lanes, and the VPSHUFB controls that take from
// it the block bytes it holds: ctl[i] is byte i's index in the chunk, or
// 0x80 (zero) where byte i comes from another chunk. A block is the OR of
// its chunks' shuffles. A chunk with c < 0 is the block's padding: ctl
// holds the bytes themselves (zero point where padded, else 0).
type shufChunk struct {
	c, off int32
	ctl    [blockSize]uint8
}

// maxShufChunks is the most chunks per block, on average, for which the
// shuffles (a broadcast load, two VPSHUFB and two VPOR each) beat im2col
// rows + packQuad.
const maxShufChunks = 3

// planOf wraps entries with their top window, padding byte zx and chunks.
// care[i], if care is not nil, says which of entry i's bytes matter (the
// others meet zero weights or dropped columns, and are left zero by the
// chunks).
func planOf(entries []packEntry, care []*[blockSize]bool, zx uint8) *packPlan {
	p := &packPlan{entries: entries, zx: zx, start: make([]int32, 1, len(entries)+1)}
	for i := range entries {
		e := &entries[i]
		for j := range 2 {
			c, off := e.c[j], e.off[j]
			if c > p.top[0] || c == p.top[0] && off > p.top[1] {
				p.top = [2]int32{c, off}
			}
		}
		// Chunk k of the 128-byte concatenation is window k/4 at 16·(k%4).
		var chunk [8]int // index into p.chunks, +1; 0 if unused
		if e.pad != 0 {
			fill := shufChunk{c: -1}
			for b := range fill.ctl {
				if e.pad>>b&1 != 0 {
					fill.ctl[b] = zx
				}
			}
			p.chunks = append(p.chunks, fill)
		}
		for b, idx := range e.idx {
			if care != nil && !care[i][b] || e.pad>>b&1 != 0 {
				continue
			}
			k := idx >> 4
			if chunk[k] == 0 {
				ch := shufChunk{c: e.c[k/4], off: e.off[k/4] + 16*int32(k%4)}
				for l := range ch.ctl {
					ch.ctl[l] = 0x80
				}
				p.chunks = append(p.chunks, ch)
				chunk[k] = len(p.chunks)
			}
			p.chunks[chunk[k]-1].ctl[b] = idx & 15
		}
		p.start = append(p.start, int32(len(p.chunks)))
	}
	return p
}

// readEnd is one past the furthest byte a chunk of images [b0, b0+nb) of
// n reads (the top window's 64 bytes, see top): packing may read whole
// windows, and falls back to the scalar code where they would run past
// the source.
func (p *packPlan) readEnd(n, b0, nb, hw int) int {
	return (int(p.top[0])*n+b0+nb-1)*hw + int(p.top[1]) + blockSize
}

// shufFits reports whether p's blocks take few enough chunks, on average,
// for the shuffles to beat im2col.
func (p *packPlan) shufFits() bool {
	return len(p.chunks) <= maxShufChunks*len(p.entries)
}

// directPlan returns the plan of every block (group gi of an image, quad
// q) at entries[gi·k4 + q], or nil if the layer does not fit: each block
// within two windows (padded positions are the entry's pad bits). Each
// image has ⌈P/16⌉ groups of its own (groups never straddle images): with
// P output columns not a multiple of 16, the last group's extra lanes are
// computed and dropped.
func directPlan(s *step) *packPlan {
	H, W := s.in.shape.H, s.in.shape.W
	oh, ow := s.out.shape.H, s.out.shape.W
	P, k4, K := oh*ow, s.w.k4, s.w.k
	G := ceilDiv(P, laneCols)
	plan := make([]packEntry, G*k4)
	care := make([]*[blockSize]bool, G*k4)
	for gi := range G {
		for q := range k4 {
			e := &plan[gi*k4+q]
			care[gi*k4+q] = new([blockSize]bool)
			var offs [blockSize]int32
			var chans [blockSize]int32
			var cs []int32
			for l := range laneCols {
				n := gi*laneCols + l
				oy, ox := n/ow, n%ow
				for j := range 4 {
					k := 4*q + j
					if k >= K || n >= P { // zero weight or dropped column: any byte will do
						chans[4*l+j] = -1
						continue
					}
					kx, ky, c := k%s.kw, k/s.kw%s.kh, k/(s.kw*s.kh)
					iy, ix := oy*s.sh-s.ph+ky, ox*s.sw-s.pw+kx
					if iy < 0 || iy >= H || ix < 0 || ix >= W {
						e.pad |= 1 << (4*l + j)
						chans[4*l+j] = -1
						continue
					}
					offs[4*l+j] = int32(iy*W + ix)
					chans[4*l+j] = int32(c)
					if !slices.Contains(cs, int32(c)) {
						cs = append(cs, int32(c))
					}
				}
			}
			lo := func(c int32) int32 {
				m := int32(H * W)
				for i, ch := range chans {
					if ch == c {
						m = min(m, offs[i])
					}
				}
				return m
			}
			switch {
			case len(cs) == 0:
				e.c = [2]int32{0, 0}
			case len(cs) == 1:
				o := lo(cs[0])
				e.c, e.off = [2]int32{cs[0], cs[0]}, [2]int32{o, o + blockSize}
			case len(cs) == 2:
				e.c, e.off = [2]int32{cs[0], cs[1]}, [2]int32{lo(cs[0]), lo(cs[1])}
			default:
				return nil
			}
			for i, ch := range chans {
				if ch < 0 {
					continue
				}
				// Position in the 128-byte concatenation of the windows:
				// one channel may use both, two channels one each.
				p, lim := offs[i]-e.off[0], int32(2*blockSize)
				if len(cs) == 2 {
					lim = blockSize
					if ch == e.c[1] {
						p = offs[i] - e.off[1]
					}
				}
				if p < 0 || p >= lim {
					return nil
				}
				if len(cs) == 2 && ch == e.c[1] {
					p += blockSize
				}
				e.idx[i] = uint8(p)
				care[gi*k4+q][i] = true
			}
		}
	}
	return planOf(plan, care, s.zx)
}

// packDirectScalar is packDirect's portable twin.
func packDirectScalar(dst []byte, src []uint8, plan *packPlan, k4, G, hw, n, b0, nb int) {
	for bi := range nb {
		b := b0 + bi
		for gi := range G {
			for q := range k4 {
				e := &plan.entries[gi*k4+q]
				w0 := src[(int(e.c[0])*n+b)*hw+int(e.off[0]):]
				w1 := src[(int(e.c[1])*n+b)*hw+int(e.off[1]):]
				blk := dst[((bi*G+gi)*k4+q)*blockSize:][:blockSize]
				for i, p := range e.idx {
					switch {
					case e.pad>>i&1 != 0:
						blk[i] = plan.zx
					case p < blockSize:
						blk[i] = w0[p]
					default:
						blk[i] = w1[p-blockSize]
					}
				}
			}
		}
	}
}

// convChunk returns how many images a chunk of step s holds. A 1×1
// convolution by the VNNI GEMM requantizes in its epilogue (gemmRequant:
// no int32 C), so its chunk counts packed B only, up to fusedCols
// columns: MobileNetV2's 7×7 and 4×4 layers had chunks of 1–7 images,
// their last 16–48 columns of 49–112 in the single-group kernel.
func convChunk(s *step, n int) int {
	P := s.out.shape.H * s.out.shape.W
	per := ceilDiv(P, laneCols)*s.w.k4*blockSize + s.w.mpad*P*4
	if s.pointwise() && s.groups == 0 && s.w.kern == kernVNNI && host.gemmRequant != nil {
		per = ceilDiv(P, laneCols) * s.w.k4 * blockSize
		return max(1, min(n, chunkBytes/per, fusedCols/P))
	}
	return max(1, min(n, chunkBytes/per))
}

// fusedCols bounds a fused 1×1 convolution's chunk (convChunk): its B
// stays in L2, and the int32 C planned for its unfused path (a pool
// fused after it) within mpad·fusedCols.
const fusedCols = 1024

// fusable reports whether the 2×2 stride-2 max pool p can be fused into
// the requantization of conv step s: even output size, no padding, and
// every M0 ≥ 0 (so the requantization is monotone).
func fusable(s *step, p intmodel.Pool2d) bool {
	if p.KernelH != 2 || p.KernelW != 2 || p.StrideH != 2 || p.StrideW != 2 || p.PadH != 0 || p.PadW != 0 {
		return false
	}
	if s.out.shape.H%2 != 0 || s.out.shape.W%2 != 0 {
		return false
	}
	for _, m0 := range s.m0 {
		if m0 < 0 {
			return false
		}
	}
	return true
}

// conv runs conv step s on n images from src into dst (CNHW storage
// codes), chunk by chunk; with pool, dst receives the 2×2 max-pooled
// output instead.
func (e *engine) conv(dst, src []uint8, s *step, n int, pool bool) {
	oh, ow := s.out.shape.H, s.out.shape.W
	P := oh * ow
	hw := s.in.shape.H * s.in.shape.W
	src = src[:cap(src)]
	chunk := convChunk(s, n)
	// Direct packing (a plan, and the CPU's permutation) gives each image
	// G whole groups, cols ≥ P GEMM columns; im2col packs the P columns of
	// the chunk's images back to back. The fused pool needs the latter
	// layout unless P is a multiple of 16.
	// A padded convolution packs directly from its input where its plan
	// fits (the padding is the entries' pad bits), else from zero-point
	// frames of the input (unpadded, so that its windows are plain).
	plan, viaFrames := s.direct, false
	if plan == nil && s.padded != nil {
		plan, viaFrames = s.padded.direct, true
	}
	if s.wino != nil {
		e.wgConv(dst, src, s, n, pool)
		return
	}
	if s.stem != nil && !pool {
		e.stemConv(dst, src, s, n)
		return
	}
	if s.framedIn {
		// Only a Winograd plan reads its input from a producer's frames
		// (a programmer error: the plan dropped after the buffers were).
		panic("intruntime: conv: input in frames without its Winograd plan")
	}
	G := ceilDiv(P, laneCols)
	direct := plan != nil && host.directPack(plan) && (!pool || P%laneCols == 0)
	// The tap GEMM where output rows fill a vector (or, for the VNNI
	// kernel, where it computes few positions past the outputs), and
	// wherever the packing would be im2col's (tapconv.go).
	if s.tap != nil && (ow >= tapMinWidth || (host.tapNarrow && s.tap.pays(P)) || !direct || viaFrames) {
		e.tapConv(dst, src, s, n, pool)
		return
	}
	cols := P
	if direct {
		cols = G * laneCols
	}
	for b0 := 0; b0 < n; b0 += chunk {
		nb := min(chunk, n-b0)
		N := nb * cols
		ng := groupsFor(N)
		switch ps := s.padded; {
		case ps != nil && (viaFrames || !direct):
			// Padding: the chunk's planes copied into zero-point frames,
			// then packed as the unpadded convolution of the frames.
			frames := e.padFrames(src, s, n, b0, nb)
			if direct {
				packDirect(e.pack, frames, plan, s.w.k4, G, ps.in.shape.H*ps.in.shape.W, nb, 0, nb)
			} else {
				e.packConv(frames, ps, nb, 0, nb)
			}
		case direct:
			packDirect(e.pack, src, plan, s.w.k4, G, hw, n, b0, nb)
		default:
			e.packConv(src, s, n, b0, nb)
		}
		ldc := ng * laneCols
		if !pool && s.framed == nil && cols == P && s.rqKind >= 0 && len(s.rq) == s.w.m && host.gemmRequant != nil &&
			host.gemmRequant(dst[b0*P:], n*P, s.w, e.pack, ng, N, s.rq, s.rqKind) {
			// The requantization in the GEMM's epilogue: no C round trip.
			continue
		}
		gemm(e.acc, ldc, s.w, e.pack, ng)
		if !pool {
			if f := s.framed; f != nil {
				// Each image's rows into its frames (the depthwise reader's).
				for i := range nb {
					host.requantRowsCh(dst[f.at(0, b0+i):], f.images*f.plane(), f.Wp, e.acc[i*cols:], ldc, oh, ow, ow, s.rq, s.rqKind)
				}
				continue
			}
			if s.rqKind >= 0 && len(s.rq) == s.w.m && host.requantRowsCh != nil {
				// All channels in one call: each channel's nb images
				// (or the chunk's N columns as one row).
				if cols == P {
					host.requantRowsCh(dst[b0*P:], n*P, N, e.acc, ldc, 1, N, N, s.rq, s.rqKind)
				} else {
					host.requantRowsCh(dst[b0*P:], n*P, P, e.acc, ldc, nb, P, cols, s.rq, s.rqKind)
				}
				continue
			}
			for m := range s.w.m {
				if cols == P {
					e.requantOne(dst[(m*n+b0)*P:][:N], e.acc[m*ldc:m*ldc+N], s, m)
					continue
				}
				e.requantImages(dst[(m*n+b0)*P:], e.acc[m*ldc:], nb, P, cols, s, m)
			}
			continue
		}
		// oh is even, so rows 2r and 2r+1 of the chunk are always the
		// same image's and pool into its row r.
		rows, pooled := e.pool32[:N/2], e.pool32[N/2:N/2+N/4]
		for m := range s.w.m {
			e.pool2x2(pooled, rows, e.acc[m*ldc:m*ldc+N], N/ow/2, ow/2)
			e.requantOne(dst[(m*n+b0)*P/4:][:N/4], pooled, s, m)
		}
	}
}

// padFrames copies images [b0, b0+nb) of n (CNHW) into e.padbuf as nb
// images of frames (H+2·ph)×(W+2·pw) whose borders hold the input zero
// point, and returns them (with the slack direct packing may read).
func (e *engine) padFrames(src []uint8, s *step, n, b0, nb int) []uint8 {
	C, H, W := s.in.shape.C, s.in.shape.H, s.in.shape.W
	Hp, Wp := H+2*s.ph, W+2*s.pw
	frames := e.padbuf[:C*nb*Hp*Wp+slack]
	fill(frames, s.zx)
	for c := range C {
		// A channel's nb images at once (a copy call a row had been 2% of
		// resnet20's int8 time on Zen 3).
		host.frameRows(frames[c*nb*Hp*Wp+s.ph*Wp+s.pw:], src[(c*n+b0)*H*W:][:nb*H*W], H, W, Wp, nb, Hp*Wp)
	}
	return frames
}

// planRequant sets the requantization operands of each of s's output
// channels for host.requantPre, or returns nil where the CPU has no such
// kernel or a channel does not fit it (a left shift, M0 = 0, or what
// requantScalars.set refuses): requantImages then takes requantRows or
// the general formula as before.
//
// A channel whose accumulators are bounded away from int32's limits also
// gets exactSum: every accumulator is a sum of weights times input codes
// in [0, 255], so |acc| ≤ 255·Σ|w| over the channel's weights of q.
func planRequant(s *step, q *intmodel.Quantized) []requantScalars {
	if host.requantPre == nil || q == nil || len(s.m0) == 0 || len(s.bias) != len(s.m0) || len(s.shift) != len(s.m0) {
		return nil
	}
	rq := make([]requantScalars, len(s.m0))
	per := 0
	if len(q.Weights)%len(rq) == 0 {
		per = len(q.Weights) / len(rq)
	}
	for m := range rq {
		sh := s.shift[m]
		if sh > 0 || s.m0[m] == 0 || !rq[m].set(int64(s.bias[m]), s.m0[m], uint(-sh), s.zy, s.lo, s.hi) {
			return nil
		}
		if per > 0 {
			var abs int64
			for _, w := range q.Weights[m*per : (m+1)*per] {
				abs += max(int64(w), -int64(w))
			}
			b := int64(s.bias[m])
			rq[m].exactSum = b+255*abs <= math.MaxInt32 && b-255*abs >= math.MinInt32
			if rq[m].exactSum {
				rq[m].setFloat(255 * abs)
			}
		}
	}
	return rq
}

// commonKernel is the requantization kernel all of rq's channels take:
// the first of rqPreference that serves every one; −1 where rq is empty.
func commonKernel(rq []requantScalars) int {
	if len(rq) == 0 {
		return -1
	}
	for _, k := range rqPreference {
		all := true
		for i := range rq {
			if !rq[i].serves(k) {
				all = false
				break
			}
		}
		if all {
			return k
		}
	}
	return rqGeneral
}

// requantOne requantizes one output channel m's accumulators.
func (e *engine) requantOne(out []uint8, row []int32, s *step, m int) {
	e.requantImages(out, row, 1, len(row), 0, s, m)
}

// requantImages requantizes channel m of nb images in one call: image i's
// accumulators row[i·rowStride:][:width] go to out[i·width:][:width].
func (e *engine) requantImages(out []uint8, row []int32, nb, width, rowStride int, s *step, m int) {
	if s.rq != nil && host.requantPre != nil {
		host.requantPre(out, width, row, rowStride, nb, width, &s.rq[m])
		return
	}
	bias, m0, sh := int64(s.bias[m]), s.m0[m], s.shift[m]
	if sh > 0 || m0 == 0 {
		for i := range nb {
			o, r := out[i*width:][:width], row[i*rowStride:][:width]
			for j, a := range r {
				v := int32(max(min(int64(a)+bias, math.MaxInt32), math.MinInt32))
				o[j] = uint8(min(max(MultiplyByQuantizedMultiplier(v, m0, sh)+s.zy, s.lo), s.hi))
			}
		}
		return
	}
	requantRows(out, width, row, rowStride, nb, width, bias, m0, uint(-sh), s.zy, s.lo, s.hi)
}

// pool2x2 writes to pooled the 2×2 maxima of the rows×w windows of src
// (2·rows contiguous rows of 2·w values): in one pass where the CPU has it
// (poolFlat32), else by maxRowPairs32 and maxPairs32 through tmp (2·rows×w
// values).
func (e *engine) pool2x2(pooled, tmp, src []int32, rows, w int) {
	if host.poolFlat32 != nil {
		host.poolFlat32(pooled, src, rows, w, 2*w)
		return
	}
	half := tmp[:2*rows*w]
	maxRowPairs32(half, src[:4*rows*w], 2*w)
	maxPairs32(pooled[:rows*w], half)
}

// maxRowPairs32Scalar writes dst[r·w + x] = max(src[2r·w + x], src[(2r+1)·w + x]).
func maxRowPairs32Scalar(dst, src []int32, w int) {
	for r := range len(dst) / w {
		a, b, o := src[2*r*w:][:w], src[(2*r+1)*w:][:w], dst[r*w:][:w]
		for x := range o {
			o[x] = max(a[x], b[x])
		}
	}
}

// maxPairs32Scalar writes dst[i] = max(src[2i], src[2i+1]).
func maxPairs32Scalar(dst, src []int32) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = max(src[2*i], src[2*i+1])
	}
}
