package intruntime

// Tap convolutions: a stride-1 convolution as a sum of GEMMs read straight
// from the input, one per kernel row, for the AMX and AVX-512 VNNI kernels
// (on the others the im2col packing of conv.go stays cheaper than the
// products). VNNI reads one plane per channel quad instead of the row
// planes (w1 below), 16 positions a vector, with the weights broadcast a
// quad at a time from 8-row panels.
//
// The input of one image is first written as quad planes: quad plane j
// holds, at each position of the zero-point-padded frame (Hp×Wp, the
// frame flattened), the codes of channels 4j..4j+3 as the four bytes of an
// uint32. Each quad plane is kept kw times, the copy for kernel column kx
// shifted by kx positions: row plane r = j·kw + kx holds at position p the
// quad j at p + kx. Output position (y, x) is computed at flat position
// p = y·Wp + x, and kernel row ky reads every row plane at p + ky·Wp: so
// for 16 consecutive flat positions, a run of 16 uint32s of each row
// plane is exactly a row of an AMX B tile, the tile's rows (quad, column)
// pairs one plane apart, and K covers a kernel row's columns as well as
// the channels (a 16-channel 3×3 layer: 12 of a tile's 16 rows, three
// TDPBSUD per output tile instead of nine a quarter full). The Wp − ow
// flat positions past each output row are computed and dropped, as the
// depthwise flat kernel does. Wp is rounded up to whole vectors where
// that costs little, so that the tile rows stay within cache lines.
//
// The input codes are written kw times (4 bytes per channel quad and
// position) instead of im2col's kh·kw times, and K is not padded to whole
// tiles. Channels must come in quads.

// tapPlan is a convolution's tap GEMM: its weights as A tiles and the
// geometry of its row planes.
type tapPlan struct {
	m, kq             int // output channels; channel quads
	rows, chunks, rpc int // row planes (kq·kw), chunks of rpc rows each (the last padded)
	mt                int // 16-row C tiles
	kh, kw, ph, pw    int
	Hp, Wp, plane     int     // the frame (Wp may be wider than the padded input), the uint32s from one row plane to the next
	offs              []int32 // flat offset of each kernel row: ky·Wp
	group, nb         int     // flat output positions per pass of the kernel (tapPositions); passes
	qlen              int     // uint32s of the row planes, with what the last group reads past them
	// masks: for each vector of 16 flat positions, the ones that are
	// outputs (requantFlat).
	masks []uint16
	w     []byte // A tiles, 16 rows × 64 bytes, in (row tile, kernel row, chunk) order
	cfg   [64]byte
	// The layout without copies (impl.tapSingle, VNNI): one plane per
	// channel quad, each tap (ky, kx) read at its own offset ky·Wp + kx
	// (offs1), the weights as panels of 8 output rows: the int32 quad of
	// row i of panel pi for tap t = ky·kw + kx and quad j at
	// ((pi·kh·kw + t)·kq + j)·8 + i (rows past m zero). The kw shifted
	// copies cost writes that vector loads at any offset do not need (AMX
	// tiles do: their rows are whole planes).
	w1 []int32
	// w16: w1's layout with 4-row panels of int16 weights for the AVX2
	// kernel (tapGemmAVX2): row i of panel pi, tap t, quad j at
	// ((pi·kh·kw + t)·kq + j)·4 + i, channel 4j+c in bits 16c..16c+15.
	w16   []uint64
	offs1 []int32
	// offs16: the byte offset of tap t's quad plane j, ky·Wp + kx
	// positions into it, at t·kq + j (tapGemmAVX2's one loop over both).
	offs16 []int32
	qlen1  int // uint32s of the quad planes, with what the last group reads past them
}

// tapMinChannels is the fewest input channels a convolution needs for the
// tap GEMM: a tile's K is its channels, and with fewer than 16 the tiles
// run mostly empty.
const tapMinChannels = 16

// tapMinWidth is the narrowest output for which a convolution that has a
// direct packing plan (conv.go) takes the tap GEMM instead (narrower ones
// still take it where they would pack by im2col, as a fused pool on planes
// that are not whole vectors does): on Sapphire Rapids (AMX) resnet20's
// 16-channel 28×28 layers made the whole model 1.12x faster with taps, its
// 32- and 64-channel 14×14 and 7×7 ones 5% slower each, where vgg-small's
// 14×14 convolution with its pool fused (im2col otherwise) made it 1.8x
// faster. The VNNI kernel also takes narrower outputs where that pays
// (tapPlan.pays).
const tapMinWidth = 16

// pays reports whether the VNNI tap GEMM beats the direct packing's for a
// convolution of P outputs narrower than tapMinWidth: where the flat
// positions it computes (whole groups of p.group, the Wp − ow past each
// row included) are fewer than half again P. On Zen 5, with the kernels of
// session 14, resnet20's 14×14 and 7×7 layers (1.31x) made the model's
// int8 inference 7–8% faster than the direct GEMM (6,779 → 7,049 img/s
// with the 14×14 ones, 7,109–7,448 → 7,337–7,664 with the 7×7 ones too,
// alternated runs), vgg-small 1%; LeNet-5's unpadded 5×5 on 12×12 (8 wide
// in rows of 12: 2x) ran 1.5x slower (124k → 84k img/s for the model).
func (p *tapPlan) pays(P int) bool { return 2*p.ldc() < 3*P }

// tapGroup is the flat output positions one pass of the AMX tap kernel
// computes: four C tiles of 16 columns.
const tapGroup = 64

// tapPositions is the granularity of the flat output positions im's tap
// GEMM computes: the VNNI kernel's tiles of 32 positions (a 14×14 layer
// in rows of 16 then computes 224 positions for its 222, not 256: 12.5%
// less work), else tapGroup.
func (im *impl) tapPositions() int {
	if im.tapSingle {
		return 32
	}
	return tapGroup
}

// newTapPlan plans the stride-1 convolution of weights w ([m][cin][kh][kw])
// over cin×H×W inputs with padding (ph, pw), its flat output positions
// computed group at a time (impl.tapPositions), or returns nil where the
// tap GEMM does not apply (channels not in quads; 1×1 kernels, whose
// packing is no im2col anyway).
func newTapPlan(w []int8, m, cin, kh, kw, H, W, ph, pw, group int) *tapPlan {
	if cin%4 != 0 || kh*kw < 2 || len(w) != m*cin*kh*kw || group%16 != 0 || group <= 0 {
		return nil
	}
	p := &tapPlan{m: m, kq: cin / 4, kh: kh, kw: kw, ph: ph, pw: pw, Hp: H + 2*ph, Wp: W + 2*pw, group: group}
	oh, ow := p.Hp-kh+1, p.Wp-kw+1
	if oh < 1 || ow < 1 {
		return nil
	}
	// Whole vectors per frame row where that adds at most an eighth.
	if r := roundUp(p.Wp, 16); 8*(r-p.Wp) <= p.Wp {
		p.Wp = r
	}
	p.rows = p.kq * kw
	p.chunks = ceilDiv(p.rows, amxQuads)
	p.rpc = ceilDiv(p.rows, p.chunks)
	p.plane = roundUp(p.Hp*p.Wp, 16)
	p.masks = flatOutputMasks(oh, ow, p.Hp, p.Wp, 1)
	p.nb = ceilDiv((oh-1)*p.Wp+ow, group)
	p.offs = make([]int32, kh)
	for ky := range kh {
		p.offs[ky] = int32(ky * p.Wp)
	}
	p.qlen = p.chunks*p.rpc*p.plane + p.ldc() + int(p.offs[kh-1])
	p.mt = ceilDiv(m, amxRows)
	p.w = make([]byte, p.mt*kh*p.chunks*1024)
	for mi := range p.mt {
		for ky := range kh {
			for h := range p.chunks {
				tile := p.w[((mi*kh+ky)*p.chunks+h)*1024:][:1024]
				for r := range amxRows {
					oc := mi*amxRows + r
					if oc >= m {
						break
					}
					for rr := range p.rpc {
						row := h*p.rpc + rr
						if row >= p.rows {
							break
						}
						j, kx := row/kw, row%kw
						for i := range 4 {
							tile[r*64+4*rr+i] = byte(w[((oc*cin+4*j+i)*kh+ky)*kw+kx])
						}
					}
				}
			}
		}
	}
	taps := kh * kw
	// Each (output channel, tap, quad) as w1's four bytes and w16's four
	// int16s.
	p.w1 = make([]int32, ceilDiv(m, 8)*taps*p.kq*8)
	p.w16 = make([]uint64, ceilDiv(m, 4)*taps*p.kq*4)
	for oc := range m {
		for t := range taps {
			ky, kx := t/kw, t%kw
			for j := range p.kq {
				var v uint32
				var v16 uint64
				for i := range 4 {
					x := w[((oc*cin+4*j+i)*kh+ky)*kw+kx]
					v |= uint32(uint8(x)) << (8 * i)
					v16 |= uint64(uint16(int16(x))) << (16 * i)
				}
				p.w1[((oc/8*taps+t)*p.kq+j)*8+oc%8] = int32(v)
				p.w16[((oc/4*taps+t)*p.kq+j)*4+oc%4] = v16
			}
		}
	}
	p.offs1 = make([]int32, taps)
	for t := range taps {
		p.offs1[t] = int32(t/kw*p.Wp + t%kw)
	}
	p.offs16 = make([]int32, taps*p.kq)
	for t := range taps {
		for j := range p.kq {
			p.offs16[t*p.kq+j] = int32(4 * (j*p.plane + int(p.offs1[t])))
		}
	}
	p.qlen1 = p.kq*p.plane + p.ldc() + int(p.offs1[taps-1])
	// LDTILECFG: palette 1; C tiles 0–3 16×64 bytes, the A tile 4 16 rows
	// of a chunk's row planes, B tiles 6 and 7 a chunk's rows × 64 bytes.
	p.cfg[0] = 1
	set := func(t, rows, colsb int) { p.cfg[16+2*t], p.cfg[48+t] = byte(colsb), byte(rows) }
	for t := range 4 {
		set(t, amxRows, 64)
	}
	set(4, amxRows, 4*p.rpc)
	set(6, p.rpc, 64)
	set(7, p.rpc, 64)
	return p
}

// ldc is the row stride of the plan's accumulators.
func (p *tapPlan) ldc() int { return p.nb * p.group }

// tapGemmPortable is the tap GEMM in plain Go: acc[m][p] = Σ over kernel
// rows t, row planes r and bytes i of the weight times byte i of
// q[r·plane + p + offs[t]], for every row m < 16·mt and flat position
// p < ldc.
func tapGemmPortable(acc []int32, ldc int, p *tapPlan, q []uint32) {
	for mi := range p.mt {
		for r := range amxRows {
			row := acc[(mi*amxRows+r)*ldc:][:p.ldc()]
			clear(row)
			for t, off := range p.offs {
				for h := range p.chunks {
					a := p.w[((mi*p.kh+t)*p.chunks+h)*1024+r*64:][:64]
					for rr := range p.rpc {
						w0, w1 := int32(int8(a[4*rr])), int32(int8(a[4*rr+1]))
						w2, w3 := int32(int8(a[4*rr+2])), int32(int8(a[4*rr+3]))
						src := q[(h*p.rpc+rr)*p.plane+int(off):][:len(row)]
						for x, v := range src {
							row[x] += w0*int32(v&0xff) + w1*int32(v>>8&0xff) + w2*int32(v>>16&0xff) + w3*int32(v>>24)
						}
					}
				}
			}
		}
	}
}

// quadRowsScalar writes rows rows of w positions, dstStride apart in dst,
// copies times, copyStride values apart: position x of row y gets the bytes
// src[c·chStride + y·w + x] for the channels c = 0..3 of the quad, low
// byte first.
func quadRowsScalar(dst []uint32, src []uint8, chStride, rows, w, dstStride, copies, copyStride int) {
	for y := range rows {
		s0, s1 := src[y*w:][:w], src[chStride+y*w:][:w]
		s2, s3 := src[2*chStride+y*w:][:w], src[3*chStride+y*w:][:w]
		for c := range copies {
			o := dst[c*copyStride+y*dstStride:][:w]
			for x := range o {
				o[x] = uint32(s0[x]) | uint32(s1[x])<<8 | uint32(s2[x])<<16 | uint32(s3[x])<<24
			}
		}
	}
}

// poolFlat32Scalar writes dst[y·w + x] = the max of src at (2y, 2x),
// (2y, 2x+1), (2y+1, 2x) and (2y+1, 2x+1), rows stride apart: a fused 2×2
// pool on a tap convolution's flat accumulators.
func poolFlat32Scalar(dst, src []int32, rows, w, stride int) {
	for y := range rows {
		r0, r1 := src[2*y*stride:], src[(2*y+1)*stride:]
		for x := range w {
			dst[y*w+x] = max(r0[2*x], r0[2*x+1], r1[2*x], r1[2*x+1])
		}
	}
}

// requantFlatScalar requantizes the accumulators of row, 16 a vector, and
// writes those its vector's mask selects to out one after the other.
func requantFlatScalar(out []uint8, row []int32, masks []uint16, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	o := 0
	for i, k := range masks {
		for j := range 16 {
			if k>>j&1 != 0 {
				requantRowScalar(out[o:o+1], row[16*i+j:16*i+j+1], bias, m0, exp, zy, lo, hi)
				o++
			}
		}
	}
}

// tapConv runs conv step s (with a tap plan) on n images from src into
// dst, one image at a time: its row planes, the tap GEMM, then each
// channel's oh rows requantized from the accumulators' flat positions;
// with pool, dst receives the 2×2 max-pooled output instead (as conv's).
func (e *engine) tapConv(dst, src []uint8, s *step, n int, pool bool) {
	p := s.tap
	H, W := s.in.shape.H, s.in.shape.W
	oh, ow := s.out.shape.H, s.out.shape.W
	// One quad plane per channel quad (impl.tapSingle), else kw shifted
	// copies of each.
	q, copies := e.quads[:p.qlen], p.kw
	if host.tapSingle {
		q, copies = e.quads[:p.qlen1], 1
	}
	// The frames' borders are the zero point; the interiors are
	// overwritten image by image.
	zq := uint32(s.zx) * 0x01010101
	for i := range q {
		q[i] = zq
	}
	ldc := p.ldc()
	acc := e.acc[:p.mt*amxRows*ldc]
	hw := H * W
	for b := range n {
		for j := range p.kq {
			// Row planes j·kw + kx, kx = 0..kw−1: the quad plane, and its
			// copies shifted by kx (a plane later, kx positions earlier);
			// or the quad plane j alone.
			quadRows(q[j*copies*p.plane+p.ph*p.Wp+p.pw:], src[(4*j*n+b)*hw:], n*hw, H, W, p.Wp, copies, p.plane-1)
		}
		host.tapGemm(acc, ldc, p, q)
		if pool {
			P := oh * ow
			if Q := P / 4; s.rqKind >= 0 && len(s.rq) == p.m && host.poolFlatCh != nil && host.requantRowsCh != nil {
				// All channels pooled, then requantized, in two calls.
				pooled := e.pool32[:p.m*Q]
				host.poolFlatCh(pooled, acc, oh/2, ow/2, p.Wp, p.m, ldc)
				host.requantRowsCh(dst[b*Q:], n*Q, Q, pooled, Q, 1, Q, Q, s.rq, s.rqKind)
				continue
			}
			pooled := e.pool32[:P/4]
			for m := range p.m {
				// Rows Wp apart: one pass (the runner plans taps only
				// where the CPU has it).
				host.poolFlat32(pooled, acc[m*ldc:], oh/2, ow/2, p.Wp)
				e.requantOne(dst[(m*n+b)*P/4:][:P/4], pooled, s, m)
			}
			continue
		}
		// All channels in one call where they share a kernel.
		if s.rqKind >= 0 && len(s.rq) == p.m {
			out := dst[b*oh*ow:]
			if ow < tapMinWidth && host.requantFlatCh != nil {
				host.requantFlatCh(out, n*oh*ow, acc, ldc, p.masks, oh*ow, s.rq, s.rqKind)
				continue
			}
			if ow >= tapMinWidth && host.requantRowsCh != nil {
				host.requantRowsCh(out, n*oh*ow, ow, acc, ldc, oh, ow, p.Wp, s.rq, s.rqKind)
				continue
			}
		}
		for m := range p.m {
			out, row := dst[(m*n+b)*oh*ow:][:oh*ow], acc[m*ldc:]
			// Rows at least a vector wide requantize as rows; narrower
			// ones from the flat positions (fewer, fuller vectors).
			if ow < tapMinWidth && s.rq != nil && host.requantFlatPre != nil {
				host.requantFlatPre(out, row, p.masks, oh*ow, &s.rq[m])
				continue
			}
			if sh := s.shift[m]; ow < tapMinWidth && sh <= 0 && s.m0[m] != 0 && host.requantFlat != nil &&
				host.requantFlat(out, row, p.masks, int64(s.bias[m]), s.m0[m], uint(-sh), s.zy, s.lo, s.hi) {
				continue
			}
			e.requantImages(out, row, oh, ow, p.Wp, s, m)
		}
	}
}
