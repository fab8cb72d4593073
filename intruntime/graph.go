package intruntime

import (
	"encoding/binary"
	"math"

	"github.com/qatgo/qatgo/fixedpoint"
	"github.com/qatgo/qatgo/intmodel"
)

// The graph layers: grouped/depthwise convolution, residual add, concat and
// the rescaling average pools. Buffers are CNHW storage codes (code + off),
// as everywhere in the runtime; each step reads its input tensors' buffers.

// dwChunk is the accumulators a depthwise layer requantizes at once.
const dwChunk = 4096

// groupedConv runs a grouped convolution (depthwise when each group has one
// input channel) directly, image by image and group by group: the group's
// input planes are copied once into a scratch frame padded with the input
// zero point (real 0), then for each output channel of the group an int32
// accumulator plane gathers Σ w·x over the group's input channels and the
// kernel window (3×3 depthwise, the MobileNet case, unrolled), and the
// channel's requantization (with the folded bias q_b − Z_X·Σw) turns it
// into codes. There is no im2col and no GEMM: the reduction is only
// (InChannels/Groups)·KernelH·KernelW long.
func (e *engine) groupedConv(dst, src []uint8, s *step, n int) {
	if s.dwImages > 0 {
		e.depthwise3x3(dst, src, s, n)
		return
	}
	H, W := s.in.shape.H, s.in.shape.W
	outC, oh, ow := s.out.shape.C, s.out.shape.H, s.out.shape.W
	P := oh * ow
	cpg := s.in.shape.C / s.groups // input channels per group
	opg := outC / s.groups         // output channels per group
	K := cpg * s.kh * s.kw
	Hp, Wp := H+2*s.ph, W+2*s.pw
	padded := s.ph > 0 || s.pw > 0
	frame := e.frame[:cpg*Hp*Wp+dwRound]
	if padded {
		fill(frame, s.zx) // the borders; interiors are overwritten below
	}
	// A depthwise layer (one output channel per group) requantizes a chunk
	// of images' planes in one call: the planes are small (7×7 in
	// mobilenetv2) and one call per plane was mostly call overhead.
	chunk := 1
	if opg == 1 {
		chunk = max(1, min(n, dwChunk/P))
	}
	for g := range s.groups {
		for b := range n {
			acc := e.acc[b%chunk*P:][:P]
			for ci := range cpg {
				plane := src[((g*cpg+ci)*n+b)*H*W:][:H*W]
				if !padded {
					copy(frame[ci*H*W:], plane)
					continue
				}
				frameRows(frame[ci*Hp*Wp+s.ph*Wp+s.pw:], plane, H, W, Wp, 1, 0)
			}
			for oc := g * opg; oc < (g+1)*opg; oc++ {
				w := s.gw[oc*K : (oc+1)*K]
				switch {
				case cpg == 1 && s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1:
					// Outputs at every frame position of the first oh
					// rows (one flat 1-D pass; the Wp − ow columns past
					// each row are computed and dropped).
					flat := e.flat[:roundUp((oh-1)*Wp+ow, dwRound)]
					dwFlat3x3(flat, e.frame, e.weights9(w), Wp, e.dwq) // the whole buffer: the VNNI kernel reads past the frame
					pickRows32(acc, flat, oh, ow, Wp, 1, 1, 0)
				case cpg == 1 && s.kh == 3 && s.kw == 3 && s.sh == 2 && s.sw == 2 &&
					host.dw3x3s2 != nil && host.dw3x3s2(acc, e.frame, e.weights9(w), Wp, oh, ow, e.dwq, 1, 0):
					// Stride 2, outputs only (the whole frame buffer: the
					// kernel reads past the frame).
				case cpg == 1 && s.kh == 3 && s.kw == 3 && s.sh == 2 && s.sw == 2:
					// Stride 2: output (y, x) is the stride-1 flat output at
					// frame position (2y, 2x) (four times the products, but
					// in SIMD lanes instead of a scalar loop).
					flat := e.flat[:roundUp((2*oh-2)*Wp+2*ow-1, dwRound)]
					dwFlat3x3(flat, e.frame, e.weights9(w), Wp, e.dwq) // the whole buffer: the VNNI kernel reads past the frame
					pickRows32(acc, flat, oh, ow, 2*Wp, 2, 1, 0)
				case cpg == 1 && s.kh == 3 && s.kw == 3:
					dw3x3(acc, frame, w, oh, ow, Wp, s.sh, s.sw)
				default:
					convFrame(acc, frame, w, cpg, Hp*Wp, s.kh, s.kw, oh, ow, Wp, s.sh, s.sw)
				}
				if b%chunk == chunk-1 || b == n-1 {
					b0 := b - b%chunk
					nb := b - b0 + 1
					e.requantOne(dst[(oc*n+b0)*P:][:nb*P], e.acc[:nb*P], s, oc)
				}
			}
		}
	}
}

// frameRowsScalar copies planes planes of rows rows of w bytes, all back
// to back in src, to rows dstStride bytes apart in dst, the planes
// dstPlane bytes apart (planes into their zero-point frames).
func frameRowsScalar(dst, src []uint8, rows, w, dstStride, planes, dstPlane int) {
	for p := range planes {
		for y := range rows {
			copy(dst[p*dstPlane+y*dstStride:][:w], src[(p*rows+y)*w:][:w])
		}
	}
}

// pickRows32Scalar writes to dst, back to back, w values of each of rows
// rows srcStride apart in each of planes planes srcPlane apart in src:
// src[plane + row + x·step] for x < w (the depthwise flat outputs that are
// real outputs; step 2 for stride 2).
func pickRows32Scalar(dst, src []int32, rows, w, srcStride, step, planes, srcPlane int) {
	o := 0
	for p := range planes {
		for y := range rows {
			f, a := src[p*srcPlane+y*srcStride:], dst[o:o+w]
			for x := range a {
				a[x] = f[x*step]
			}
			o += w
		}
	}
}

// depthwise3x3 runs a depthwise 3×3 step (one input and output channel
// per group; stride 1, or 2 where the CPU has dw3x3s2) s.dwImages images a
// call: their zero-point frames one after the other in e.frame, then for
// stride 1 one flat pass over all of them (the positions between one
// image's last output row and the next image's first are computed and
// dropped with the rest) and their outputs requantized straight from the
// flat positions (requantFlatPre on the step's flatMasks: with the
// 9-instruction requantization, cheaper than picking them into rows
// first; the ragged last chunk is picked), for stride 2 one call over all
// frames and the images' outputs requantized together. Small planes
// (MobileNetV2's 14×14 to 4×4) spent most of their time in the calls a
// plane.
func (e *engine) depthwise3x3(dst, src []uint8, s *step, n int) {
	H, W := s.in.shape.H, s.in.shape.W
	oh, ow := s.out.shape.H, s.out.shape.W
	if pl := s.dwPerm; pl != nil {
		if s.quadOut {
			if !host.dwPermQuad(dst, src, pl, n, n*H*W, n*oh*ow, s.rq, s.rqKind, s.zx) {
				panic("intruntime: depthwise3x3: the quad-interleaved kernel declined its planned step")
			}
			return
		}
		host.dwPerm(dst, src, pl, n, n*H*W, n*oh*ow, s.rq, s.rqKind, s.zx)
		return
	}
	if pl := s.dwMask; pl != nil {
		P, nb := oh*ow, s.dwImages
		for g := range s.groups {
			dwMaskWeights(&e.dwWp, s.gw[g*9:g*9+9])
			for b0 := 0; b0 < n; b0 += nb {
				cnt := min(nb, n-b0)
				host.dwMask(e.acc[:cnt*P], src, (g*n+b0)*H*W, cnt, pl, &e.dwWp, s.zx, e.dwGuard)
				e.requantOne(dst[(g*n+b0)*P:][:cnt*P], e.acc[:cnt*P], s, g)
			}
		}
		return
	}
	Hp, Wp := dwFrame(H, W, s.ph, s.pw, s.sh)
	P, plane := oh*ow, Hp*Wp
	nb := s.dwImages
	// The plan gave the step masks only where the CPU has framePlanes.
	expand := s.frameMasks != nil
	if !expand && !s.framedIn {
		fill(e.frame[:nb*plane+Wp+s.pw], s.zx) // the borders (the last one past the frames); interiors are overwritten below
	}
	var fl *frameLayout
	if s.framedIn {
		fl = e.steps[s.ins[0]-1].framed
	}
	for g := range s.groups {
		w9 := e.weights9(s.gw[g*9 : g*9+9])
		for b0 := 0; b0 < n; b0 += nb {
			cnt := min(nb, n-b0)
			frame := e.frame
			if fl != nil {
				// The producer wrote the frames: read them in place (the
				// whole rest of the buffer: the kernels read past them).
				frame = src[fl.at(g, b0)-fl.ph*fl.Wp-fl.pw : cap(src)]
			} else if in := src[(g*n+b0)*H*W:][:cnt*H*W]; expand {
				// Frames and borders in one pass (past cnt planes: zx).
				host.framePlanes(e.frame, in, s.frameMasks, s.zx)
			} else {
				frameRows(e.frame[s.ph*Wp+s.pw:], in, H, W, Wp, cnt, plane)
			}
			if s.sh == 2 {
				// Stride 2 (where the CPU has the kernel: dwImages is
				// set only then): the output positions only.
				// A vector of slack past the outputs (planned): the last
				// row's stores too are whole vectors.
				if !host.dw3x3s2(e.acc[:cnt*P+8], frame, w9, Wp, oh, ow, e.dwq, cnt, plane) {
					panic("intruntime: depthwise3x3: stride-2 kernel declined its planned buffers")
				}
			} else {
				flat := e.flat[:roundUp((cnt-1)*plane+(oh-1)*Wp+ow, dwRound)]
				dwFlat3x3(flat, frame, w9, Wp, e.dwq) // the whole buffer: the VNNI kernel reads past the frames
				if cnt == nb && s.flatMasks != nil && s.rq != nil {
					// Requantized straight from the flat positions.
					host.requantFlatPre(dst[(g*n+b0)*P:][:cnt*P], flat, s.flatMasks, cnt*P, &s.rq[g])
					continue
				}
				pickRows32(e.acc[:cnt*P], flat, oh, ow, Wp, 1, cnt, plane)
			}
			e.requantOne(dst[(g*n+b0)*P:][:cnt*P], e.acc[:cnt*P], s, g)
		}
	}
}

// dwPermPlan is a depthwise 3×3 computed straight from the input planes
// by byte permutes (host.dwPerm), without frames or flat positions between
// outputs: an image's p outputs in nv vectors of up to 16 consecutive ones
// whose codes lie in a window of the plane (mode). Each vector's record
// (dwPermRecord bytes, in vecs): for each kernel row ky the window index
// of kernel column kx's code as byte kx of each output's dword (64 bytes;
// at 0, 64, 128; padding and each dword's fourth byte index a zero
// point), the window's offset in the plane (192), the masks of its two
// 64-byte loads (200, 208), the store mask of its outputs (216), their
// count (224) and 4 × the count (240, the advance of a quad-interleaved
// store). VPDPBUSD by the row's weights (wq, [C][3], each
// w[ky][0..2] as the low three bytes) adds a row. MobileNetV2's 4×4
// planes computed 25 flat positions for 16 outputs in shared-border
// frames, its 7×7 stride-2 ones a vector a row for 4 outputs.
type dwPermPlan struct {
	nv, hw, p int
	mode      int // dwPermPlane, dwPermNarrow or dwPermWide
	vecs      []byte
	wq        []uint32
}

// The windows of a dwPermPlan: the whole plane (at most 64 bytes, loaded
// once an image, every vector 16 outputs), 64 bytes (one load a vector),
// or 128 (two loads; codes spanning at most 127 bytes, the last one the
// zero point) where windows of 64 would take more vectors. A 64-byte
// window's VPERMI2B takes the zero points as its second table.
const (
	dwPermNarrow = iota
	dwPermWide
	dwPermPlane
)

// dwPermRecord is the bytes of a dwPermPlan vector's record.
const dwPermRecord = 256

// newDwPermPlan plans the depthwise 3×3 of stride (sh, sw) and padding
// (ph, pw) from H×W planes to oh×ow outputs, C channels of weights w
// ([C][3][3]), or returns nil where one output's codes span more than a
// window (rows wider than 62).
func newDwPermPlan(w []int8, C, H, W, oh, ow, sh, sw, ph, pw int) *dwPermPlan {
	if len(w) != 9*C {
		return nil
	}
	pl := planDwPerm(H, W, oh, ow, sh, sw, ph, pw, 0)
	if pl == nil {
		narrow := planDwPerm(H, W, oh, ow, sh, sw, ph, pw, 64)
		if pl = planDwPerm(H, W, oh, ow, sh, sw, ph, pw, 128); pl == nil {
			return nil
		}
		if narrow != nil && narrow.nv <= pl.nv {
			pl = narrow
		}
	}
	pl.wq = make([]uint32, 3*C)
	for c := range C {
		for ky := range 3 {
			k := w[9*c+3*ky:]
			pl.wq[3*c+ky] = kernelRow(int32(k[0]), int32(k[1]), int32(k[2]))
		}
	}
	return pl
}

// kernelRow is a 3×3 kernel row's int8 weights as the low three bytes of
// a VPDPBUSD weight dword (the fourth 0), for code triples or permuted
// windows whose fourth byte it then ignores.
func kernelRow(k0, k1, k2 int32) uint32 {
	return uint32(uint8(k0)) | uint32(uint8(k1))<<8 | uint32(uint8(k2))<<16
}

// planDwPerm plans dwPermPlan's vectors (not its weights) for windows of
// window bytes (64 or 128; 0: the whole plane, at most 64 bytes), or
// returns nil where one output's codes do not fit one.
func planDwPerm(H, W, oh, ow, sh, sw, ph, pw, window int) *dwPermPlan {
	P := oh * ow
	if P < 1 || window == 0 && H*W > 64 {
		return nil
	}
	mode := dwPermPlane
	switch window {
	case 64:
		mode = dwPermNarrow
	case 128:
		mode = dwPermWide
	}
	// span returns the plane offsets of output j's first and last code
	// (ok false: all padding).
	span := func(j int) (lo, hi int, ok bool) {
		y, x := j/ow, j%ow
		lo, hi = H*W, -1
		for ky := range 3 {
			for kx := range 3 {
				iy, ix := y*sh+ky-ph, x*sw+kx-pw
				if iy >= 0 && iy < H && ix >= 0 && ix < W {
					lo, hi = min(lo, iy*W+ix), max(hi, iy*W+ix)
				}
			}
		}
		return lo, hi, hi >= 0
	}
	pl := &dwPermPlan{hw: H * W, p: P, mode: mode}
	if mode == dwPermPlane {
		window = 64
	}
	// The codes' span a window holds: a wide one keeps its last byte for
	// the zero point.
	limit := window
	if mode == dwPermWide {
		limit--
	}
	for j := 0; j < P; {
		// As many outputs (up to 16) as one window holds.
		base, top, n := -1, -1, 0
		for n < 16 && j+n < P {
			lo, hi, ok := span(j + n)
			if ok {
				nb, nt := lo, hi
				if base >= 0 {
					nb, nt = min(base, lo), max(top, hi)
				}
				if nt-nb >= limit {
					break
				}
				base, top = nb, nt
			}
			n++
		}
		if n == 0 {
			return nil
		}
		base = max(base, 0)
		if mode == dwPermPlane {
			base = 0
		}
		rec := make([]byte, dwPermRecord)
		// Padding and the dwords' fourth bytes index a zero point: the
		// second table of a 64-byte window's VPERMI2B (all zero points),
		// a 128-byte window's last byte (never loaded: the window's codes
		// span at most 127 bytes, and its loads merge into zero points).
		for i := range 192 {
			rec[i] = byte(min(window, 127))
		}
		for lane := range n {
			y, x := (j+lane)/ow, (j+lane)%ow
			for ky := range 3 {
				for kx := range 3 {
					iy, ix := y*sh+ky-ph, x*sw+kx-pw
					if iy < 0 || iy >= H || ix < 0 || ix >= W {
						continue
					}
					rec[64*ky+4*lane+kx] = byte(iy*W + ix - base)
				}
			}
		}
		var lm [2]uint64
		for i := range window {
			if base+i < H*W && (mode != dwPermWide || base+i <= top) {
				lm[i/64] |= 1 << (i % 64)
			}
		}
		binary.LittleEndian.PutUint64(rec[192:], uint64(base))
		binary.LittleEndian.PutUint64(rec[200:], lm[0])
		binary.LittleEndian.PutUint64(rec[208:], lm[1])
		// The store mask: all 16 bytes where that stays within the
		// image's outputs (the next vector overwrites the rest), else
		// the outputs'.
		sm := uint64(1)<<n - 1
		if j+16 <= P {
			sm = 0xFFFF
		}
		binary.LittleEndian.PutUint64(rec[216:], sm)
		binary.LittleEndian.PutUint64(rec[224:], uint64(n))
		binary.LittleEndian.PutUint64(rec[240:], uint64(4*n)) // a quad-interleaved store's advance
		pl.vecs = append(pl.vecs, rec...)
		pl.nv++
		j += n
	}
	return pl
}

// quadIndex is where a quad-interleaved tensor of N positions per
// channel (step.quadOut) holds channel c at position p: each quad of
// channels' codes as the four bytes of a uint32 per position, the quads'
// rows of N one after the other. A 1×1 convolution's GEMM operand is then
// a copy of 64-byte blocks (host.packQuadIn) instead of a transposition.
func quadIndex(c, p, N int) int { return (c/4*N+p)*4 + c%4 }

// framePlanesScalar writes the 64·len(masks) bytes of dst: byte i is zx
// where bit i%64 of masks[i/64] is 0 and, where it is 1, the next byte of
// src in order, or zx once src is used up. With frameMasks' masks it
// places planes in zero-point frames, borders included.
func framePlanesScalar(dst, src []uint8, masks []uint64, zx uint8) {
	dst = dst[:64*len(masks)]
	k := 0
	for i := range dst {
		dst[i] = zx
		if masks[i/64]>>(i%64)&1 == 1 && k < len(src) {
			dst[i] = src[k]
			k++
		}
	}
}

// frameMasks returns the masks for framePlanes of planes planes of h×w
// bytes into frames Hp×Wp (dwFrame's), each pixel (y, x) at (y + ph)·Wp +
// x + pw of its frame, the frames one after the other and then Wp + pw
// positions more (a shared-border frame's bottom row): a 1 bit at each
// frame position that holds a pixel.
func frameMasks(h, w, ph, pw, Hp, Wp, planes int) []uint64 {
	m := make([]uint64, ceilDiv(planes*Hp*Wp+Wp+pw, 64))
	for p := range planes {
		for y := range h {
			for x := range w {
				i := p*Hp*Wp + (y+ph)*Wp + x + pw
				m[i/64] |= 1 << (i % 64)
			}
		}
	}
	return m
}

// flatOutputMasks marks the outputs (oh × ow of each of images frames of
// Hp × Wp) among the flat positions a stride-1 pass computes over the
// frames (a depthwise 3×3's, a tap convolution's), 16 a mask, up to the
// last image's last output.
func flatOutputMasks(oh, ow, Hp, Wp, images int) []uint16 {
	plane := Hp * Wp
	m := make([]uint16, ceilDiv((images-1)*plane+(oh-1)*Wp+ow, 16))
	for i := range 16 * len(m) {
		if r := i % plane; i/plane < images && r/Wp < oh && r%Wp < ow {
			m[i/16] |= 1 << (i % 16)
		}
	}
	return m
}

// dwFrame is the frame a depthwise 3×3 of stride sh over H×W planes
// padded by (ph, pw) reads: for stride 1 and padding 1, frames that share
// their borders (H + 1 rows of W + 1: a row's right border is the next
// row's left one, an image's bottom border the next image's top one, and
// one zero row follows the last), which the flat pass computes 1.3x (7×7)
// to 1.4x (4×4) fewer positions of than the plain (H + 2)×(W + 2) frames.
func dwFrame(H, W, ph, pw, sh int) (Hp, Wp int) {
	if sh == 1 && ph == 1 && pw == 1 {
		return H + 1, W + 1
	}
	return H + 2*ph, W + 2*pw
}

// dwImagesFor is how many images a depthwise 3×3 over frames of
// plane positions takes in one call: about dwChunk positions, at most n.
func dwImagesFor(plane, n int) int { return max(1, min(n, dwChunk/plane)) }

// weights9 widens a 3×3 kernel's weights into the engine's e.w9 (not a
// local: through the dispatch's func value it would escape, one allocation
// per plane).
func (e *engine) weights9(w []int8) *[9]int32 {
	for k, v := range w[:9] {
		e.w9[k] = int32(v)
	}
	return &e.w9
}

// dwRound is what the depthwise flat outputs are rounded up to: whole
// 16-lane vectors, no scalar tail (the extra outputs are dropped).
const dwRound = 16

// dw3x3s2Width is the row length of the stride-2 kernel's code triples:
// one per even frame column, in whole vectors.
func dw3x3s2Width(Wp int) int { return roundUp(ceilDiv(Wp, 2), dwRound) }

// dw3x3s2Scalar computes acc[y·ow + x] = Σ w[3·ky+kx]·frame[(2y+ky)·Wp +
// 2x + kx]: a stride-2 depthwise 3×3 on its output positions.
func dw3x3s2Scalar(acc []int32, frame []uint8, w *[9]int32, Wp, oh, ow int) {
	for y := range oh {
		for x := range ow {
			var s int32
			for ky := range 3 {
				for kx := range 3 {
					s += w[3*ky+kx] * int32(frame[(2*y+ky)*Wp+2*x+kx])
				}
			}
			acc[y*ow+x] = s
		}
	}
}

// dwQuadsFor is how many code triples the VNNI depthwise kernel packs for n
// flat outputs over frames Wp wide: the outputs' positions and two rows
// more, in whole vectors.
func dwQuadsFor(n, Wp int) int { return n + roundUp(2*Wp, dwRound) }

func roundUp(n, m int) int { return ceilDiv(n, m) * m }

// dwFlat3x3Scalar computes acc[p] = Σ w[3·ky+kx]·frame[p + ky·Wp + kx] for
// every p < len(acc): a stride-1 depthwise 3×3 over a frame of width Wp,
// flattened (frame must hold len(acc) + 2·Wp + 2 bytes).
func dwFlat3x3Scalar(acc []int32, frame []uint8, w *[9]int32, Wp int, _ []uint32) {
	if len(acc) == 0 {
		return
	}
	r0 := frame[:len(acc)+2]
	r1 := frame[Wp : Wp+len(acc)+2]
	r2 := frame[2*Wp : 2*Wp+len(acc)+2]
	for p := range acc {
		p0, p1, p2 := r0[p:p+3], r1[p:p+3], r2[p:p+3]
		acc[p] = w[0]*int32(p0[0]) + w[1]*int32(p0[1]) + w[2]*int32(p0[2]) +
			w[3]*int32(p1[0]) + w[4]*int32(p1[1]) + w[5]*int32(p1[2]) +
			w[6]*int32(p2[0]) + w[7]*int32(p2[1]) + w[8]*int32(p2[2])
	}
}

// dw3x3 is one depthwise 3×3 output plane from a padded frame of width Wp:
// the nine products of each output summed in registers.
func dw3x3(acc []int32, frame []uint8, w []int8, oh, ow, Wp, sh, sw int) {
	w0, w1, w2 := int32(w[0]), int32(w[1]), int32(w[2])
	w3, w4, w5 := int32(w[3]), int32(w[4]), int32(w[5])
	w6, w7, w8 := int32(w[6]), int32(w[7]), int32(w[8])
	span := (ow-1)*sw + 3
	for y := range oh {
		r0 := frame[y*sh*Wp:][:span]
		r1 := frame[(y*sh+1)*Wp:][:span]
		r2 := frame[(y*sh+2)*Wp:][:span]
		a := acc[y*ow : y*ow+ow]
		for x := range a {
			i := x * sw
			// One bounds check per row of the window instead of three.
			p0, p1, p2 := r0[i:i+3], r1[i:i+3], r2[i:i+3]
			a[x] = w0*int32(p0[0]) + w1*int32(p0[1]) + w2*int32(p0[2]) +
				w3*int32(p1[0]) + w4*int32(p1[1]) + w5*int32(p1[2]) +
				w6*int32(p2[0]) + w7*int32(p2[1]) + w8*int32(p2[2])
		}
	}
}

// convFrame is one grouped-conv output plane from cpg padded frames (each
// fs bytes, width Wp): for each weight, a row-wise multiply-add.
func convFrame(acc []int32, frame []uint8, w []int8, cpg, fs, kh, kw, oh, ow, Wp, sh, sw int) {
	clear(acc)
	for ci := range cpg {
		f := frame[ci*fs : (ci+1)*fs]
		for ky := range kh {
			for kx := range kw {
				wv := int32(w[(ci*kh+ky)*kw+kx])
				if wv == 0 {
					continue
				}
				for y := range oh {
					r := f[(y*sh+ky)*Wp+kx:]
					a := acc[y*ow : y*ow+ow]
					if sw == 1 {
						r = r[:ow]
						for j := range a {
							a[j] += wv * int32(r[j])
						}
						continue
					}
					r = r[:(ow-1)*sw+1]
					for j := range a {
						a[j] += wv * int32(r[j*sw])
					}
				}
			}
		}
	}
}

// addTable returns MBQM((q − Z)·2^shift, m0, sh) for every storage code of
// an input quantized as a: an add's per-input step depends on the code only.
func addTable(a intmodel.ActQuant, left int, m0 int32, sh int) *[256]int32 {
	off := int32(0)
	if a.Signed {
		off = 1 << (a.Bits - 1)
	}
	var t [256]int32
	for v := range t {
		t[v] = fixedpoint.MultiplyByQuantizedMultiplier((int32(v)-off-a.ZeroPoint)<<left, m0, sh)
	}
	return &t
}

// rescaleTable returns the output storage code of a count-1 Rescale for
// every input storage code.
func rescaleTable(r *intmodel.Rescale) *[256]uint8 {
	inOff, outOff := int32(0), int32(0)
	if r.In.Signed {
		inOff = 1 << (r.In.Bits - 1)
	}
	if r.Out.Signed {
		outOff = 1 << (r.Out.Bits - 1)
	}
	var t [256]uint8
	for v := range t {
		t[v] = uint8(r.Apply(int32(v)-inOff-r.In.ZeroPoint) + outOff)
	}
	return &t
}

// add is the residual add of two tensors of one shape (intmodel.Add:
// TFLite's int8 ADD): its output code depends on the two input codes
// only, so it is one lookup in the step's table of all 65,536 pairs
// (addLUT), built once with the fixed-point arithmetic, or, where the CPU
// has a kernel for them, an affine function that gives the table's codes
// (addLinear) or the tables it was computed from (addPerm).
func (e *engine) add(dst, a, b []uint8, s *step, n int) {
	size := n * s.out.shape.Size()
	if s.addLin != nil {
		host.addLin(dst[:size], a[:size], b[:size], s.addLin, s.addLUT)
		return
	}
	if s.addPerm != nil {
		host.addPairs(dst[:size], a[:size], b[:size], s.addPerm, s.addLUT)
		return
	}
	lookupPairs(dst[:size], a[:size], b[:size], s.addLUT)
}

// planAdd sets add step s's table (addLUT) and, where the CPU computes
// the add faster than it gathers from the table, its operands (addLin,
// else addPerm).
func planAdd(s *step, l *intmodel.Add) {
	ta, tb := addTable(l.A, l.LeftShift, l.M0A, l.ShiftA), addTable(l.B, l.LeftShift, l.M0B, l.ShiftB)
	zy, lo, hi := l.Out.ZeroPoint+s.out.off, l.QMin+s.out.off, l.QMax+s.out.off
	s.addLUT = addLUT(l, ta, tb, zy, lo, hi)
	if host.addLin != nil {
		s.addLin = newAddLinear(l, ta, tb, s.addLUT, lo, hi)
	}
	if host.addPairs != nil {
		if s.addPerm = newAddShift(l, ta, tb, s.addLUT, zy, lo, hi); s.addPerm == nil {
			s.addPerm = newAddPerm(l, ta, tb, zy, lo, hi)
		}
	}
}

// addShiftBits is the fraction bits of newAddShift's tables.
const addShiftBits = 21

// newAddShift returns an addPerm whose tables hold each input code's
// share of the output code itself, in units of 2^-21 (shifted: the output
// is the sum of the two entries shifted right by 21, clamped to [lo, hi]:
// no requantization left for the kernel), or nil where such tables do not
// give lut's code for every pair of input codes. The output is
// ⌊(ta[a] + tb[b])·m + r⌋ + Z_Y (m the output multiplier, r its two
// roundings' offset) but for the negative-product correction; each table
// gets its input's part rounded to 21 bits, and the check over all 65,536
// pairs vouches for it (an offset of a few units is tried where a pair
// lands on the wrong side of a step).
func newAddShift(l *intmodel.Add, ta, tb *[256]int32, lut []uint8, zy, lo, hi int32) *addPerm {
	if l.ShiftOut > 0 || l.M0Out <= 0 || len(lut) < 1<<16 {
		return nil
	}
	e := -l.ShiftOut
	m := float64(l.M0Out) / math.Ldexp(1, 31+e)
	r := 0.5
	if e > 0 {
		r += math.Ldexp(1, -1-e)
	}
	const one = 1 << addShiftBits
	entry := func(v float64) int32 {
		return int32(max(min(math.Round(v*one), 1<<30-1), -1<<30))
	}
	var A, B [256]int32
	for v := range 256 {
		A[v] = entry(float64(ta[v])*m + r + float64(zy))
		B[v] = entry(float64(tb[v]) * m)
	}
	agrees := func(delta int32) bool {
		for a := range 256 {
			ra, row := A[a]+delta, lut[a<<8:a<<8+256]
			for b, want := range row {
				if uint8(min(max((ra+B[b])>>addShiftBits, lo), hi)) != want {
					return false
				}
			}
		}
		return true
	}
	for i := range 17 {
		delta := int32((i + 1) / 2) // 0, 1, −1, 2, −2, …
		if i%2 == 0 {
			delta = -delta
		}
		if !agrees(delta) {
			continue
		}
		for v := range A {
			A[v] += delta
		}
		p := &addPerm{shifted: true}
		p.rq.lo, p.rq.hi = lo, hi
		p.setTables(&A, &B)
		return p
	}
	return nil
}

// addPerm is what host.addPairs computes an add's output codes from: each
// input's table (addTable) as four byte planes, lowest byte first, for
// 64-lane byte permutes (tabs[0:1024] the first input's, [1024:] the
// second's), and the output's requantization operands (bias 0).
type addPerm struct {
	tabs [2048]byte
	rq   requantScalars
	// shifted: the tables are newAddShift's (the output is the entries'
	// sum shifted right by addShiftBits, clamped to rq's lo and hi), not
	// the inputs' scaled codes for rq's requantization.
	shifted bool
}

// newAddPerm returns the addPerm of add l with input tables ta and tb, or
// nil where its requantization cannot be the table's (addLUT's: a left
// shift or M0 ≤ 0 take the general formula).
func newAddPerm(l *intmodel.Add, ta, tb *[256]int32, zy, lo, hi int32) *addPerm {
	if l.ShiftOut > 0 || l.M0Out <= 0 {
		return nil
	}
	p := &addPerm{}
	if !p.rq.set(0, l.M0Out, uint(-l.ShiftOut), zy, lo, hi) {
		return nil
	}
	// No bias: the saturating add's clamp is to all of int32.
	p.rq.exactSum = true
	p.setTables(ta, tb)
	return p
}

// setTables stores tables a and b as p's byte planes, lowest byte first.
func (p *addPerm) setTables(a, b *[256]int32) {
	for t, tab := range [2]*[256]int32{a, b} {
		for v, x := range tab {
			for k := range 4 {
				p.tabs[t*1024+k*256+v] = uint8(uint32(x) >> (8 * k))
			}
		}
	}
}

// addLUT returns add l's output storage code for every pair of input
// storage codes at a·256 + b: each input scaled by its table (addTable),
// the sum through the output multiplier (the fixed-point multiply, + Z,
// clamp). Three bytes of slack follow: the AVX-512 lookup gathers dwords.
func addLUT(l *intmodel.Add, ta, tb *[256]int32, zy, lo, hi int32) []uint8 {
	lut := make([]uint8, 1<<16+3)
	var sum [256]int32
	for a := range 256 {
		for b := range sum {
			sum[b] = ta[a] + tb[b]
		}
		row := lut[a<<8 : a<<8+256]
		if l.ShiftOut <= 0 && l.M0Out > 0 {
			requantRowScalar(row, sum[:], 0, l.M0Out, uint(-l.ShiftOut), zy, lo, hi)
			continue
		}
		for b, v := range sum {
			row[b] = uint8(min(max(MultiplyByQuantizedMultiplier(v, l.M0Out, l.ShiftOut)+zy, lo), hi))
		}
	}
	return lut
}

// lookupPairsScalar writes dst[k] = lut[a[k]·256 + b[k]].
func lookupPairsScalar(dst, a, b, lut []uint8) {
	a, b = a[:len(dst)], b[:len(dst)]
	lut = lut[:1<<16]
	for k := range dst {
		dst[k] = lut[int(a[k])<<8|int(b[k])]
	}
}

// concat joins the inputs along channels. In CNHW each input is one
// contiguous block of its channels, so the output is the blocks back to
// back: copied when the input shares the output's quantization, otherwise
// mapped code by code (a count-1 Rescale depends on the code only).
func (e *engine) concat(dst []uint8, s *step, n int) {
	o := 0
	for k, in := range s.inActs {
		size := n * in.shape.Size()
		src, out := e.view[s.ins[k]][:size], dst[o:o+size]
		o += size
		t := s.catMap[k]
		if t == nil {
			copy(out, src)
			continue
		}
		for j, v := range src {
			out[j] = t[v]
		}
	}
}

// globalAvgPool rescales each (channel, image) plane's sum of code
// differences Σ (q − Z_in) over H·W into one output code.
func globalAvgPool(dst, src []uint8, s *step, n int, sums []int32) {
	hw := s.in.shape.H * s.in.shape.W
	if c := s.gapRq; c != nil {
		// The raw sums, then all of them requantized in one call (the
		// offset Σ Z_in is the operands' bias).
		planes := s.in.shape.C * n
		host.sumPlanes(sums[:planes], src, hw)
		host.requantPre(dst[:planes], planes, sums, 0, 1, planes, c)
		return
	}
	r := &s.rescale[0]
	sub := int32(hw) * (s.in.off + r.In.ZeroPoint)
	for plane := range s.in.shape.C * n {
		sum := sumBytes(src[plane*hw : (plane+1)*hw])
		dst[plane] = uint8(r.Apply(sum-sub) + s.out.off)
	}
}

// planGlobalAvgPool returns global average pool l's rescale as the
// requantization operands of its plane sums (bias −H·W·Z_in), or nil where
// the CPU has no planned requantization or the rescale is not one
// (a left shift, M0 ≤ 0, what requantScalars.set refuses).
func planGlobalAvgPool(s *step, l *intmodel.GlobalAvgPool) *requantScalars {
	r := &l.Rescale
	if host.requantPre == nil || r.Shift > 0 || r.M0 <= 0 {
		return nil
	}
	hw := int64(s.in.shape.H * s.in.shape.W)
	c := &requantScalars{}
	if !c.set(-hw*int64(s.in.off+r.In.ZeroPoint), r.M0, uint(-r.Shift), r.Out.ZeroPoint+s.out.off, r.QMin+s.out.off, r.QMax+s.out.off) {
		return nil
	}
	// A sum of H·W codes in [0, 255] plus the bias stays in int32.
	b := hw * int64(s.in.off+r.In.ZeroPoint)
	c.exactSum = 255*hw+max(b, -b) < 1<<31
	return c
}

// sumBytes is the sum of b's bytes, eight at a time: each 64-bit word's
// bytes added in pairs into four 16-bit lanes, which hold up to 128 words'
// pair sums (2·255·128 < 2^16) before they are folded (a byte at a time,
// the global average pool was 2–3% of MobileNetV2's integer inference).
func sumBytes(b []uint8) int32 {
	const lo8 = 0x00FF00FF00FF00FF
	var sum int32
	for len(b) >= 8 {
		words := min(len(b)/8, 128)
		var acc uint64
		for i := range words {
			x := binary.LittleEndian.Uint64(b[8*i:])
			acc += x&lo8 + x>>8&lo8
		}
		acc = acc&0x0000FFFF0000FFFF + acc>>16&0x0000FFFF0000FFFF
		sum += int32(acc&0xFFFFFFFF + acc>>32)
		b = b[8*words:]
	}
	for _, v := range b {
		sum += int32(v)
	}
	return sum
}

// sumPlanes sets sums[p] to the sum of the bytes of src's plane p (hw
// bytes each). Planes up to 1,024 bytes (MobileNetV2's 4×4 ones, 256 an
// image; resnet20's 7×7, 64) take sumBytes' loop inline, one fold a
// plane: a call to sumBytes a plane cost 4 ns for 16 bytes, 8 for 49.
func sumPlanes(sums []int32, src []uint8, hw int) {
	if hw > 8*128 {
		for p := range sums {
			sums[p] = sumBytes(src[p*hw : (p+1)*hw])
		}
		return
	}
	const lo8 = 0x00FF00FF00FF00FF
	src = src[:len(sums)*hw]
	if hw == 16 {
		for p := range sums {
			x0 := binary.LittleEndian.Uint64(src[16*p:])
			x1 := binary.LittleEndian.Uint64(src[16*p+8:])
			acc := x0&lo8 + x0>>8&lo8 + x1&lo8 + x1>>8&lo8
			acc = acc&0x0000FFFF0000FFFF + acc>>16&0x0000FFFF0000FFFF
			sums[p] = int32(acc&0xFFFFFFFF + acc>>32)
		}
		return
	}
	words := hw / 8
	for p := range sums {
		plane := src[p*hw : (p+1)*hw]
		var acc uint64
		for i := range words {
			x := binary.LittleEndian.Uint64(plane[8*i:])
			acc += x&lo8 + x>>8&lo8
		}
		acc = acc&0x0000FFFF0000FFFF + acc>>16&0x0000FFFF0000FFFF
		sum := int32(acc&0xFFFFFFFF + acc>>32)
		for _, v := range plane[8*words:] {
			sum += int32(v)
		}
		sums[p] = sum
	}
}

// avgPoolRescale is an AvgPool2d with Requant: each window's Σ (q − Z_in)
// over its in-bounds positions (padding is real 0, so it adds nothing but
// counts in the divisor KernelH·KernelW, which the multiplier holds).
func avgPoolRescale(dst, src []uint8, s *step, n int) {
	H, W := s.in.shape.H, s.in.shape.W
	oh, ow := s.out.shape.H, s.out.shape.W
	p := s.pool
	r := &s.rescale[0]
	sub := s.in.off + r.In.ZeroPoint
	for plane := range s.in.shape.C * n {
		in := src[plane*H*W : (plane+1)*H*W]
		out := dst[plane*oh*ow : (plane+1)*oh*ow]
		for y := range oh {
			y0 := y*p.StrideH - p.PadH
			ya, yb := max(y0, 0), min(y0+p.KernelH, H)
			for x := range ow {
				x0 := x*p.StrideW - p.PadW
				xa, xb := max(x0, 0), min(x0+p.KernelW, W)
				var sum int32
				for yy := ya; yy < yb; yy++ {
					for _, v := range in[yy*W+xa : yy*W+xb] {
						sum += int32(v)
					}
				}
				sum -= int32((yb-ya)*(xb-xa)) * sub
				out[y*ow+x] = uint8(r.Apply(sum) + s.out.off)
			}
		}
	}
}
