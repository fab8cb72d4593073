package intruntime

// Integer Winograd F(2×2, 3×3): a stride-1 3×3 convolution as 16
// elementwise GEMMs over 4×4 input tiles, each giving a 2×2 output tile,
// 16 multiply-adds per 4 outputs where the direct sum takes 36. It runs on
// AVX2 CPUs without VNNI, where the exact int8 products go through
// VPMADDWD on int16 (one instruction per 16 multiply-adds, as the direct
// kernels' after zero-extending their codes; the transformed values are
// int16 already): 2.25x fewer multiplies for the same instructions each.
//
// The sums stay exact. With d a 4×4 tile of input codes (padding: the
// input zero point, as the direct kernels read it) and g a 3×3 kernel,
//
//	Y = Aᵀ [U ⊙ V] A,  U = (2G) g (2G)ᵀ,  V = Bᵀ d B
//
// with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], 2G = [2 0 0; 1 1 1;
// 1 −1 1; 0 0 2] and Aᵀ = [1 1 1 0; 0 1 −1 −1] is 4 times the 2×2 block
// of the correlation (Lavin & Gray's F(2×2, 3×3) with G's halves scaled
// out): every entry is an integer, |V| ≤ 4·255 and |U| ≤ 9·128 fit int16,
// VPMADDWD's pair sums (≤ 2·1020·1152) fit int32, and the adds wrap
// modulo 2³² like the direct kernels' do, so the result is the direct
// accumulator times 4 exactly wherever that fits int32 (wgFits checks
// 4·255·Σ|w| per channel); an arithmetic shift by 2 gives it back.
//
// Layout. Tiles are numbered per image row-major over th tile rows of
// twp tiles (tw = ⌈ow/2⌉ rounded up to 4 or to a multiple of 8), the
// image's count rounded up to whole vectors of 8 tiles, so that a vector
// is 8 tiles of one tile row or 4 of each of two. V holds, for each of
// the 16 positions ξ of the 4×4 transform, channel pair j and tile t, the
// int16 values of channels 2j and 2j+1 as one uint32 (VPMADDWD's pairs):
// V[(ξ·cp + j)·ldv + t]. U holds the weights the same way, 4-row panels:
// U[((ξ·panels + pi)·cp + j)·4 + r]. The GEMMs leave M[(ξ·mp + r)·ldm + t]
// (int32), and the output transform writes each channel's 2×2 blocks into
// a plane of rows 2·twp int32s apart, from which the rows requantize as
// the tap convolutions' do.

// wgPlan is a convolution's Winograd F(2×2, 3×3) plan.
type wgPlan struct {
	m, cin, cp, mp int // output channels; input channels; their pairs; m rounded up to 4
	oh, ow         int
	th, twp, tpi   int // tile rows, tiles a tile row (4 or a multiple of 8), tiles an image (whole vectors)
	hf, wf         int // the input frame: rows, row stride in bytes (the zero point around the input)
	ph, pw         int
	tb             int // tiles per block: V and M of a block stay in L2
	images         int // images a group (run): whole images per block where one fits
	// vxs, mxs: the stride between V's and M's positions ξ, a cache line
	// more than their data (cp·tb, mp·tb), so that the 16 positions of a
	// vector do not all map to one L1 set (4 KB apart they did: the output
	// transform ran at a third of its speed).
	vxs, mxs int
	// half: where the second four tiles of a vector are, relative to the
	// first: in the frame (bytes) and in the output plane (int32s).
	inHalf, outHalf int
	ldp, plane      int      // the output plane's row stride and size (int32s)
	u               []uint32 // the transformed weights (see above)
	inOffs          []int32  // vector k's first tile's top-left in the frame (bytes)
	outOffs         []int32  // vector k's first tile's first output in the plane (int32s)
}

// wgBlockBytes is the budget of one block's V and M.
const wgBlockBytes = 96 << 10

// wgMaxImages bounds a group's images (its frames and accumulators).
const wgMaxImages = 8

// wgMinGain is the least ratio of the direct multiply-adds (9 a real
// output) to the Winograd GEMMs' (16 a stored tile, tiles padded) for
// which a convolution is planned: the transforms cost about a fifth of
// the GEMMs.
const wgMinGain = 1.5

// newWgPlan plans the stride-1 3×3 convolution of weights w
// ([m][cin][3][3]) over cin×H×W inputs with padding (ph, pw), or returns
// nil where it does not apply (planWg) or does not pay: too few tiles'
// worth of outputs (wgMinGain).
func newWgPlan(w []int8, m, cin, H, W, ph, pw int) *wgPlan {
	p := planWg(w, m, cin, H, W, ph, pw)
	if p == nil || float64(9*p.oh*p.ow) < wgMinGain*float64(16*p.tpi) {
		return nil
	}
	return p
}

// planWg is newWgPlan without the gain test; nil for an odd channel
// count or accumulators that could pass int32 (wgFits).
func planWg(w []int8, m, cin, H, W, ph, pw int) *wgPlan {
	oh, ow := H+2*ph-2, W+2*pw-2
	if cin%2 != 0 || cin < 2 || m < 1 || oh < 1 || ow < 1 || len(w) != m*cin*9 || !wgFits(w, m, cin) {
		return nil
	}
	p := &wgPlan{m: m, cin: cin, cp: cin / 2, mp: roundUp(m, 4), oh: oh, ow: ow, ph: ph, pw: pw}
	p.th = ceilDiv(oh, 2)
	tw := ceilDiv(ow, 2)
	p.twp = roundUp(tw, 8)
	if tw <= 4 {
		p.twp = 4
	}
	p.tpi = roundUp(p.th*p.twp, 8)
	rows := p.tpi / p.twp // tile rows stored, the last vector's included
	p.hf, p.wf = 2*rows+2, 2*p.twp+2
	p.ldp, p.plane = 2*p.twp, 4*p.tpi
	p.inHalf, p.outHalf = 8, 8
	if p.twp == 4 {
		p.inHalf, p.outHalf = 2*p.wf, 16
	}
	// Blocks of whole images where one fits the budget (a group of
	// images a block), else of part of an image (a group of one).
	budget := max(8, wgBlockBytes/(64*(p.cp+p.mp))&^7)
	p.images, p.tb = 1, min(p.tpi, budget)
	if p.tpi <= budget {
		p.images = min(budget/p.tpi, wgMaxImages)
		p.tb = p.images * p.tpi
	}
	p.vxs, p.mxs = p.cp*p.tb+16, p.mp*p.tb+16
	nv := p.tpi / 8
	p.inOffs, p.outOffs = make([]int32, p.images*nv), make([]int32, p.images*nv)
	for i := range p.images {
		for k := range nv {
			ty, tx := 8*k/p.twp, 8*k%p.twp
			p.inOffs[i*nv+k] = int32(i*p.hf*p.wf + 2*ty*p.wf + 2*tx)
			p.outOffs[i*nv+k] = int32(i*p.plane + 2*ty*p.ldp + 2*tx)
		}
	}
	p.u = wgWeights(w, m, cin, p.mp)
	return p
}

// wgFits reports whether every channel's accumulator times 4 fits int32
// for any input codes in [0, 255]: the transformed sums wrap modulo 2³²
// on the way and are exact only where the final value fits.
func wgFits(w []int8, m, cin int) bool {
	per := cin * 9
	for oc := range m {
		var abs int64
		for _, x := range w[oc*per : (oc+1)*per] {
			abs += max(int64(x), -int64(x))
		}
		if 4*255*abs > 1<<31-1 {
			return false
		}
	}
	return true
}

// wgWeights returns U = (2G) g (2G)ᵀ of each kernel in the panel layout
// (rows m..mp−1 zero).
func wgWeights(w []int8, m, cin, mp int) []uint32 {
	cp, panels := cin/2, mp/4
	u := make([]uint32, 16*panels*cp*4)
	g2 := [4][3]int32{{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}}
	for oc := range m {
		for c := range cin {
			k := w[(oc*cin+c)*9:][:9]
			// t = (2G) g: 4×3; U = t (2G)ᵀ: 4×4.
			var t [4][3]int32
			for i := range 4 {
				for x := range 3 {
					for y := range 3 {
						t[i][x] += g2[i][y] * int32(k[3*y+x])
					}
				}
			}
			for i := range 4 {
				for jj := range 4 {
					var s int32
					for x := range 3 {
						s += t[i][x] * g2[jj][x]
					}
					xi := 4*i + jj
					at := ((xi*panels+oc/4)*cp+c/2)*4 + oc%4
					u[at] |= uint32(uint16(int16(s))) << (16 * (c % 2))
				}
			}
		}
	}
	return u
}

// wgInputGo writes V for the nv vectors of 8 tiles whose top-left frame
// offsets are offs: channels 2j and 2j+1 from frames f0 and f1 (row
// stride wf, a vector's second four tiles half bytes on), position ξ of
// tile t of the block at v[ξ·xs + t] for the block's t = 8·k + i.
func wgInputGo(v []uint32, xs int, f0, f1 []uint8, offs []int32, half, wf int) {
	for k, o := range offs {
		for i := range 8 {
			at := int(o) + 2*(i%4)
			if i >= 4 {
				at += half
			}
			var d [2][4][4]int32
			for c, f := range [2][]uint8{f0, f1} {
				for y := range 4 {
					for x := range 4 {
						d[c][y][x] = int32(f[at+y*wf+x])
					}
				}
			}
			for c := range 2 {
				vv := wgBtdB(&d[c])
				for xi := range 16 {
					p := &v[xi*xs+8*k+i]
					*p = *p&^(0xffff<<(16*c)) | uint32(uint16(int16(vv[xi])))<<(16*c)
				}
			}
		}
	}
}

// wgBtdB returns Bᵀ d B, ξ = 4·row + column.
func wgBtdB(d *[4][4]int32) [16]int32 {
	bt := func(a0, a1, a2, a3 int32) [4]int32 { return [4]int32{a0 - a2, a1 + a2, a2 - a1, a1 - a3} }
	var r [4][4]int32 // rows transformed: r[y] = Bᵀ applied along x
	for y := range 4 {
		r[y] = bt(d[y][0], d[y][1], d[y][2], d[y][3])
	}
	var v [16]int32
	for x := range 4 {
		c := bt(r[0][x], r[1][x], r[2][x], r[3][x])
		for i := range 4 {
			v[4*i+x] = c[i]
		}
	}
	return v
}

// wgGemmGo computes 4·panels rows of M for nv vectors of 8 tiles:
// mo[(4·pi + r)·ldm + t] = Σ_j the pair product of u[(pi·cp + j)·4 + r]
// and v[j·ldv + t] (VPMADDWD: each int16 half times its own, the two
// summed in int32), wrapping.
func wgGemmGo(mo []int32, ldm int, u, v []uint32, ldv, cp, nv, panels int) {
	for r := range 4 * panels {
		row := mo[r*ldm:][:8*nv]
		clear(row)
		for j := range cp {
			a := u[(r/4*cp+j)*4+r%4]
			a0, a1 := int32(int16(a)), int32(int16(a>>16))
			for t, b := range v[j*ldv:][:8*nv] {
				row[t] += a0*int32(int16(b)) + a1*int32(int16(b>>16))
			}
		}
	}
}

// wgOutputGo writes the 2×2 outputs of one channel's nv vectors of 8
// tiles (M of the channel at mrow[ξ·xs + t]) into its plane acc (rows ldp
// apart), vector k's first tile at offs[k], its second four tiles half
// int32s after its first: Aᵀ M A, shifted right by 2.
func wgOutputGo(acc, mrow []int32, xs int, offs []int32, half, ldp int) {
	for k, o := range offs {
		for i := range 8 {
			var mm [16]int32
			for xi := range 16 {
				mm[xi] = mrow[xi*xs+8*k+i]
			}
			y := wgAtMA(&mm)
			at := int(o) + 2*(i%4)
			if i >= 4 {
				at += half
			}
			acc[at], acc[at+1] = y[0]>>2, y[1]>>2
			acc[at+ldp], acc[at+ldp+1] = y[2]>>2, y[3]>>2
		}
	}
}

// wgAtMA returns Aᵀ m A as y00, y01, y10, y11 (m: ξ = 4·row + column).
func wgAtMA(m *[16]int32) [4]int32 {
	var s0, s1 [4]int32 // Aᵀ along the rows, per column
	for x := range 4 {
		s0[x] = m[x] + m[4+x] + m[8+x]
		s1[x] = m[4+x] - m[8+x] - m[12+x]
	}
	return [4]int32{s0[0] + s0[1] + s0[2], s0[1] - s0[2] - s0[3], s1[0] + s1[1] + s1[2], s1[1] - s1[2] - s1[3]}
}

// wgKernels are the three passes of a Winograd convolution, in Go or
// assembly (host.wg; nil where the CPU takes the direct kernels).
type wgKernels struct {
	input  func(v []uint32, xs int, f0, f1 []uint8, offs []int32, half, wf int)
	gemm   func(mo []int32, ldm int, u, v []uint32, ldv, cp, nv, panels int)
	output func(acc, mrow []int32, xs int, offs []int32, half, ldp int)
}

// wgGoKernels are the passes in Go.
var wgGoKernels = wgKernels{input: wgInputGo, gemm: wgGemmGo, output: wgOutputGo}

// frameBytes is the frames of one image: every input channel's.
func (p *wgPlan) frameBytes() int { return p.cin * p.hf * p.wf }

// vLen and mLen size a block's V (uint32s) and M (int32s).
func (p *wgPlan) vLen() int { return 16 * p.vxs }
func (p *wgPlan) mLen() int { return 16 * p.mxs }

// run computes the int32 accumulators of p.images images (fewer for the
// batch's last group: nb) into acc, output channel c's plane of image i
// at (c·p.images + i)·p.plane, rows p.ldp apart. Input channel c of image
// i is at src[c·chStride + i·H·W:] (H×W); frames (p.images·frameBytes,
// channel c's frames back to back, their borders already zx) take the
// interiors, then block by block over the group's tiles the input
// transform, the 16 GEMMs and the output transform. v and m hold a
// block's V and M.
func (p *wgPlan) run(k *wgKernels, acc []int32, src []uint8, chStride, H, W, nb int, frames []uint8, v []uint32, m []int32, frameRows func(dst, src []uint8, rows, w, dstStride, planes, dstPlane int)) {
	fp := p.hf * p.wf
	cf := p.images * fp // one channel's frames
	for c := range p.cin {
		frameRows(frames[c*cf+p.ph*p.wf+p.pw:], src[c*chStride:][:nb*H*W], H, W, p.wf, nb, fp)
	}
	panels, cacc := p.mp/4, p.images*p.plane
	total := nb * p.tpi
	for t0 := 0; t0 < total; t0 += p.tb {
		nv := min(p.tb, total-t0) / 8
		in, out := p.inOffs[t0/8:][:nv], p.outOffs[t0/8:][:nv]
		for j := range p.cp {
			k.input(v[j*p.tb:], p.vxs, frames[2*j*cf:], frames[(2*j+1)*cf:], in, p.inHalf, p.wf)
		}
		for xi := range 16 {
			k.gemm(m[xi*p.mxs:], p.tb, p.u[xi*panels*p.cp*4:], v[xi*p.vxs:], p.tb, p.cp, nv, panels)
		}
		for r := range p.m {
			k.output(acc[r*cacc:], m[r*p.tb:], p.mxs, out, p.outHalf, p.ldp)
		}
	}
}

// wgConv runs conv step s (with a Winograd plan) on n images from src
// into dst, p.images at a time, as tapConv does with its accumulators:
// requantized rows, or with pool the 2×2 maxima requantized. Rows
// narrower than a vector requantize as the whole planes (rows ldp apart)
// into e.wgOut, then their first ow codes are copied out.
func (e *engine) wgConv(dst, src []uint8, s *step, n int, pool bool) {
	p := s.wino
	H, W := s.in.shape.H, s.in.shape.W
	oh, ow := p.oh, p.ow
	P, hw := oh*ow, H*W
	frames := e.padbuf[:p.images*p.frameBytes()]
	fill(frames, s.zx)
	cacc := p.images * p.plane
	acc := e.acc[:p.m*cacc]
	v, m := e.wgV[:p.vLen()], e.wgM[:p.mLen()]
	for b0 := 0; b0 < n; b0 += p.images {
		nb := min(p.images, n-b0)
		p.run(&host.wg, acc, src[b0*hw:], n*hw, H, W, nb, frames, v, m, host.frameRows)
		for c := range p.m {
			a := acc[c*cacc:]
			switch {
			case pool:
				pooled := e.pool32[:P/4]
				for i := range nb {
					e.pool2x2Strided(pooled, a[i*p.plane:], oh/2, ow/2, p.ldp)
					e.requantOne(dst[(c*n+b0+i)*P/4:][:P/4], pooled, s, c)
				}
			case ow < 8:
				flat := e.wgOut[:nb*p.plane]
				e.requantOne(flat, a[:nb*p.plane], s, c)
				host.copyRows(dst[(c*n+b0)*P:], flat, nb, oh, ow, p.ldp, p.plane)
			case p.plane == oh*p.ldp:
				e.requantImages(dst[(c*n+b0)*P:], a, nb*oh, ow, p.ldp, s, c)
			default:
				for i := range nb {
					e.requantImages(dst[(c*n+b0+i)*P:], a[i*p.plane:], oh, ow, p.ldp, s, c)
				}
			}
		}
	}
}

// pool2x2Strided writes to pooled the 2×2 maxima of src's rows (stride
// apart), rows×w of them.
func (e *engine) pool2x2Strided(pooled, src []int32, rows, w, stride int) {
	if host.poolFlat32 != nil {
		host.poolFlat32(pooled, src, rows, w, stride)
		return
	}
	poolFlat32Scalar(pooled, src, rows, w, stride)
}
