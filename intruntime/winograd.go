package intruntime

// Integer Winograd F(2×2, 3×3) and F(4×4, 3×3): a stride-1 3×3
// convolution as (r+2)² elementwise GEMMs over (r+2)×(r+2) input tiles,
// each giving an r×r output tile: 16 multiply-adds per 4 outputs (r = 2)
// or 36 per 16 (r = 4) where the direct sum takes 36 or 144. It runs on
// AVX2 CPUs without VNNI, where the exact int8 products go through
// VPMADDWD on int16 (one instruction per 16 multiply-adds, as the direct
// kernels' after zero-extending their codes; the transformed values are
// int16 already): 2.25x or 4x fewer multiplies for the same instructions
// each.
//
// The sums stay exact. With d a tile of input codes (padding: the input
// zero point, as the direct kernels read it) and g a 3×3 kernel,
//
//	Y = Aᵀ [U ⊙ V] A,  U = (SG) g (SG)ᵀ,  V = Bᵀ d B
//
// with Lavin & Gray's Bᵀ, G, Aᵀ and S a diagonal that makes SG integer
// (wgBT, wgGS, wgAT). r = 2: S = 2, and Y is 4 times the correlation's
// r×r block. r = 4: S = diag(4, 6, 6, 24, 24, 1), the scales' inverses
// moved into Aᵀ's columns as 24/S (an integer Aᵀ), and Y is 576 times the
// block. Every entry is an integer: |V| ≤ 4·255 or 100·255 and |U| ≤
// 9·128 or 49·128 fit int16, VPMADDWD's pair sums fit int32, and the
// adds wrap modulo 2³² like the direct kernels' do, so Y is exact modulo
// 2³²; 4Y needs only a shift by 2, 576Y a multiplication by 9's inverse
// modulo 2³² (giving 64Y) and a shift by 6, exact wherever 4 or 64 times
// the direct accumulator fits int32 (wgFits checks 255·Σ|w| per channel).
//
// Larger kernels (up to 9×9, stride 1) are sums of their 3×3 blocks:
// block (a, b) of a kh×kw kernel (zero past its edge) reads the input 3a
// rows and 3b columns further, so a 5×5 convolution over C channels is a
// 3×3 one over 4C virtual channels whose frames are the input's read at
// those offsets (wgPlan.vshift): 4·36 multiplies per 16 outputs where the
// direct sum takes 25·16, and the transforms' exactness as for 3×3.
//
// Layout. Tiles are numbered per image row-major over th tile rows of
// twp tiles (tw = ⌈ow/r⌉ rounded up to 4 or to a multiple of 8), the
// image's count rounded up to whole vectors of 8 tiles, so that a vector
// is 8 tiles of one tile row or 4 of each of two; F(4×4) on 2×2 tiles
// (pairs) puts two images' 4 tiles in a vector. V holds, for each of
// the positions ξ of the transform, channel pair j and tile t, the int16
// values of channels 2j and 2j+1 as one uint32 (VPMADDWD's pairs):
// V[ξ·vxs + j·tb + t]. U holds the weights the same way, 4-row panels:
// U[((ξ·panels + pi)·cp + j)·4 + r]. The GEMMs leave M[ξ·mxs + r·tb + t]
// (int32), and the output transform writes each channel's r×r blocks
// into a plane of rows r·twp int32s apart, from which the rows
// requantize as the tap convolutions' do.

// wgPlan is a convolution's Winograd F(r×r, 3×3) plan, r = 2 or 4.
type wgPlan struct {
	r, np          int // output tile size; transform positions ((r+2)²)
	m, cin, cp, mp int // output channels; input channels; their pairs; m rounded up to 4
	oh, ow         int
	th, twp, tpi   int // tile rows, tiles a tile row (4 or a multiple of 8; pairs: 2), tiles an image (whole vectors; pairs: half a vector)
	hf, wf         int // the input frame: rows, row stride in bytes (the zero point around the input)
	ph, pw         int
	tb             int // tiles per block: V and M of a block stay in L2
	images         int // images a group (run): whole images per block where one fits
	// vxs, mxs: the stride between V's and M's positions ξ, a cache line
	// more than their data (cp·tb, mp·tb), so that the positions of a
	// vector do not all map to one L1 set (4 KB apart they did: the output
	// transform ran at a third of its speed).
	vxs, mxs int
	// A vector's 8 tiles are 4 pieces of 2 adjacent tiles, at 0, q1,
	// half and half + q1 from its offset: in the frame (bytes) and in the
	// output plane (int32s). q1 is 2r (the pieces adjoin) but where
	// pairs: F(4×4) on planes of 2×2 tiles (7×7, 8×8), a vector two
	// images (half a frame or plane apart) of two tile rows (q1 one tile
	// row down).
	inHalf, outHalf int
	inQ1, outQ1     int
	pairs           bool
	// Kernels larger than 3×3 (kh×kw, up to wgMaxKernel) run as the sum
	// of their 3×3 blocks (zero past the kernel's edge): a 3×3
	// convolution over sub = ⌈kh/3⌉·⌈kw/3⌉ times the input channels, each
	// block's "channels" the input's frames read 3 rows or columns
	// further per block (no copies: the frames are that much larger). cin
	// and cp count these virtual channels; inC is the input's. Virtual
	// channel v is block v / inC of input channel v % inC, its frames
	// vshift[v] bytes into that channel's (wgPlan.frame).
	kh, kw, inC int
	vshift      []int
	ldp, plane  int      // the output plane's row stride and size (int32s)
	u           []uint32 // the transformed weights (see above)
	inOffs      []int32  // vector k's first tile's top-left in the frame (bytes)
	outOffs     []int32  // vector k's first tile's first output in the plane (int32s)
}

// wgBlockBytes is the budget of one block's V and M: half of Zen 3's L2.
// At 96 KB F(4×4)'s 36 positions left blocks of 8–24 tiles (a third of a
// 28×28 image, half a 14×14 one) whose GEMM calls were short:
// BenchmarkWgRun 10–20% slower on resnet20's shapes than at 256 KB, and
// 384 KB no faster.
const wgBlockBytes = 256 << 10

// wgAccSlack is the int32s planned past a Winograd layer's accumulator
// planes: the fused pool's vector pass reads whole vectors of a row
// pair (LeNet-5's 4-wide pooled rows had gone through the scalar code).
const wgAccSlack = 16

// wgMaxImages bounds a group's images (its frames and accumulators).
const wgMaxImages = 8

// wgMinGain is the least ratio of the direct multiply-adds (9 a real
// output) to the Winograd GEMMs' (np a stored tile, tiles padded) for
// which a convolution is planned: the transforms cost about a fifth of
// the GEMMs.
const wgMinGain = 1.5

// wg4MaxShare is the largest share of F(2×2)'s GEMM work (positions ×
// stored tiles) at which F(4×4) is taken instead: its transforms cost
// about twice as much an output.
const wg4MaxShare = 0.8

// The transforms: Bᵀ (input), G scaled to integers row by row (weights)
// and Aᵀ (output, with F(4×4)'s row scales folded in), for r = 2 and 4.
var (
	wgBT = [2][][]int32{
		{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
		{{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
	}
	wgGS = [2][][3]int32{
		{{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}},
		{{1, 0, 0}, {-1, -1, -1}, {-1, 1, -1}, {1, 2, 4}, {1, -2, 4}, {0, 0, 1}},
	}
	wgAT = [2][][]int32{
		{{1, 1, 1, 0}, {0, 1, -1, -1}},
		{{6, 4, 4, 1, 1, 0}, {0, 4, -4, 2, -2, 0}, {0, 4, 4, 4, 4, 0}, {0, 4, -4, 8, -8, 24}},
	}
)

// wgInv9 is 9's inverse modulo 2³²: F(4×4)'s outputs come out times
// 576 = 9·64 (modulo 2³²); times wgInv9 they are the outputs times 64.
const wgInv9 = 0x38e38e39

// wgKind indexes wgBT, wgGS, wgAT: 0 for r = 2, 1 for r = 4.
func wgKind(r int) int { return r / 4 }

// wgMaxKernel is the largest kernel side planned: 9×9 is nine 3×3
// blocks.
const wgMaxKernel = 9

// wgMinBlockChannels is the fewest input channels for which a kernel
// larger than 3×3 is planned: over fewer, the transforms outweigh the
// GEMMs they save (LeNet-5's 5×5 conv1 on one channel by F(4×4): 7.4 →
// 10–12 µs an image on Zen 3; its conv2, 20 channels: 27 → 14 µs).
const wgMinBlockChannels = 4

// newWgPlan plans the stride-1 kh×kw convolution of weights w
// ([m][cin][kh][kw]) over cin×H×W inputs with padding (ph, pw): F(4×4)
// where f4 (the CPU has its passes), it fits and its GEMMs take at most
// wg4MaxShare of F(2×2)'s (or, for kernels larger than 3×3, where F(2×2)
// does not pay), else F(2×2); nil where neither applies (planWg) or pays:
// too few tiles' worth of outputs (wgMinGain: the direct kh·kw
// multiply-adds an output against the blocks' GEMMs).
func newWgPlan(w []int8, m, cin, kh, kw, H, W, ph, pw int, f4 bool) *wgPlan {
	if (kh > 3 || kw > 3) && cin < wgMinBlockChannels {
		return nil
	}
	pays := func(p *wgPlan) bool {
		return p != nil && float64(kh*kw*p.oh*p.ow) >= wgMinGain*float64(p.np*p.tpi*p.cin/p.inC)
	}
	p := planWg(w, m, cin, kh, kw, H, W, ph, pw, 2)
	if !pays(p) {
		p = nil
	}
	// F(4×4) alone only for kernels of several blocks (a 5×5's F(2×2)
	// rarely pays): small 3×3 layers keep the direct kernels measured
	// against F(2×2) in session 31.
	if f4 && (p != nil || kh > 3 || kw > 3) {
		if p4 := planWg(w, m, cin, kh, kw, H, W, ph, pw, 4); pays(p4) && (p == nil || float64(p4.np*p4.tpi) <= wg4MaxShare*float64(p.np*p.tpi)) {
			return p4
		}
	}
	return p
}

// planWg plans F(r×r, 3×3) without the gain test; nil for an odd count
// of virtual channels (input channels times 3×3 blocks), a kernel side
// outside [1, wgMaxKernel] or accumulators that could pass int32
// (wgFits).
func planWg(w []int8, m, cin, kh, kw, H, W, ph, pw, r int) *wgPlan {
	oh, ow := H+2*ph-kh+1, W+2*pw-kw+1
	bh, bw := ceilDiv(kh, 3), ceilDiv(kw, 3) // 3×3 blocks
	vc := cin * bh * bw
	if kh < 1 || kw < 1 || kh > wgMaxKernel || kw > wgMaxKernel || vc%2 != 0 || cin < 1 || m < 1 || oh < 1 || ow < 1 || len(w) != m*cin*kh*kw || !wgFits(w, m, r) {
		return nil
	}
	p := &wgPlan{r: r, np: (r + 2) * (r + 2), m: m, cin: vc, cp: vc / 2, mp: roundUp(m, 4), oh: oh, ow: ow, ph: ph, pw: pw, kh: kh, kw: kw, inC: cin}
	p.th = ceilDiv(oh, r)
	tw := ceilDiv(ow, r)
	p.twp = roundUp(tw, 8)
	if tw <= 4 {
		p.twp = 4
	}
	p.pairs = r == 4 && tw <= 2 && p.th <= 2
	if p.pairs {
		p.th, p.twp = 2, 2
	}
	p.tpi = roundUp(p.th*p.twp, 8)
	if p.pairs {
		p.tpi = 4
	}
	rows := p.tpi / p.twp // tile rows stored, the last vector's included
	// The frames hold the padded input and the reads of the last blocks,
	// 3 rows or columns a block further.
	p.hf, p.wf = r*rows+2+3*(bh-1), r*p.twp+2+3*(bw-1)
	p.ldp, p.plane = r*p.twp, r*r*p.tpi
	p.inQ1, p.outQ1 = 2*r, 2*r
	p.inHalf, p.outHalf = 4*r, 4*r
	switch {
	case p.pairs:
		p.inQ1, p.outQ1 = r*p.wf, r*p.ldp
		p.inHalf, p.outHalf = p.hf*p.wf, p.plane
	case p.twp == 4:
		p.inHalf, p.outHalf = r*p.wf, r*p.ldp
	}
	// Blocks of whole images where one fits the budget (a group of
	// images a block), else of part of an image (a group of one); pairs
	// of images where a vector takes two.
	budget := max(8, wgBlockBytes/(4*p.np*(p.cp+p.mp))&^7)
	p.images, p.tb = 1, min(p.tpi, budget)
	if p.tpi <= budget {
		p.images = min(budget/p.tpi, wgMaxImages)
		if p.pairs {
			p.images = max(2, p.images&^1)
		}
		p.tb = p.images * p.tpi
	}
	p.vxs, p.mxs = p.cp*p.tb+16, p.mp*p.tb+16
	if p.pairs {
		p.inOffs, p.outOffs = make([]int32, p.images/2), make([]int32, p.images/2)
		for k := range p.images / 2 {
			p.inOffs[k] = int32(2 * k * p.hf * p.wf)
			p.outOffs[k] = int32(2 * k * p.plane)
		}
	} else {
		nv := p.tpi / 8
		p.inOffs, p.outOffs = make([]int32, p.images*nv), make([]int32, p.images*nv)
		for i := range p.images {
			for k := range nv {
				ty, tx := 8*k/p.twp, 8*k%p.twp
				p.inOffs[i*nv+k] = int32(i*p.hf*p.wf + r*(ty*p.wf+tx))
				p.outOffs[i*nv+k] = int32(i*p.plane + r*(ty*p.ldp+tx))
			}
		}
	}
	p.vshift = make([]int, vc)
	for v := range vc {
		b := v / cin
		p.vshift[v] = 3*(b/bw)*p.wf + 3*(b%bw)
	}
	p.u = wgWeights(wgBlocks(w, m, cin, kh, kw), m, vc, p.mp, r)
	return p
}

// wgBlocks returns the kh×kw kernels w ([m][cin][kh][kw]) as 3×3 blocks,
// [m][block·cin + c][3][3] for the ⌈kh/3⌉·⌈kw/3⌉ blocks row-major, zero
// past the kernel's edge; w itself where it is 3×3.
func wgBlocks(w []int8, m, cin, kh, kw int) []int8 {
	if kh == 3 && kw == 3 {
		return w
	}
	bh, bw := ceilDiv(kh, 3), ceilDiv(kw, 3)
	vc := cin * bh * bw
	out := make([]int8, m*vc*9)
	for oc := range m {
		for v := range vc {
			b, c := v/cin, v%cin
			for y := range 3 {
				for x := range 3 {
					ky, kx := 3*(b/bw)+y, 3*(b%bw)+x
					if ky < kh && kx < kw {
						out[(oc*vc+v)*9+3*y+x] = w[((oc*cin+c)*kh+ky)*kw+kx]
					}
				}
			}
		}
	}
	return out
}

// frame returns virtual channel v's frames, input channel c's at c·cf
// in frames (see wgPlan.vshift).
func (p *wgPlan) frame(frames []uint8, cf, v int) []uint8 {
	return frames[v%p.inC*cf+p.vshift[v]:]
}

// wgFits reports whether every channel's accumulator times 4 (r = 2) or
// 64 (r = 4: see wgInv9) fits int32 for any input codes in [0, 255]: the
// transformed sums wrap modulo 2³² on the way and are exact only where
// the final value fits.
func wgFits(w []int8, m, r int) bool {
	per, scale := len(w)/m, int64(4)
	if r == 4 {
		scale = 64
	}
	for oc := range m {
		var abs int64
		for _, x := range w[oc*per : (oc+1)*per] {
			abs += max(int64(x), -int64(x))
		}
		if scale*255*abs > 1<<31-1 {
			return false
		}
	}
	return true
}

// wgWeights returns U = (SG) g (SG)ᵀ of each kernel (wgGS) in the panel
// layout (rows m..mp−1 zero): |U| ≤ 9·128 (r = 2) or 49·128 (r = 4).
func wgWeights(w []int8, m, cin, mp, r int) []uint32 {
	gs := wgGS[wgKind(r)]
	a := len(gs)
	cp, panels := cin/2, mp/4
	u := make([]uint32, a*a*panels*cp*4)
	for oc := range m {
		for c := range cin {
			k := w[(oc*cin+c)*9:][:9]
			for i := range a {
				for jj := range a {
					var s int32
					for y := range 3 {
						for x := range 3 {
							s += gs[i][y] * int32(k[3*y+x]) * gs[jj][x]
						}
					}
					xi := a*i + jj
					at := ((xi*panels+oc/4)*cp+c/2)*4 + oc%4
					u[at] |= uint32(uint16(int16(s))) << (16 * (c % 2))
				}
			}
		}
	}
	return u
}

// wgTile is tile i's offset in its vector: 4 pieces of two adjacent
// tiles (r apart) at 0, q1, half and half + q1.
func wgTile(i, r, q1, half int) int {
	return r*(i%2) + q1*(i/2%2) + half*(i/4)
}

// wgInputGo writes V for the nv vectors of 8 tiles of r×r outputs whose
// top-left frame offsets are offs: channels 2j and 2j+1 from frames f0
// and f1 (row stride wf; a vector's tiles as wgTile places them), position
// ξ of tile t of the block at v[ξ·xs + t] for the block's t = 8·k + i:
// Bᵀ d B.
func wgInputGo(r int, v []uint32, xs int, f0, f1 []uint8, offs []int32, half, q1, wf int) {
	bt := wgBT[wgKind(r)]
	a := len(bt)
	for k, o := range offs {
		for i := range 8 {
			at := int(o) + wgTile(i, r, q1, half)
			for c, f := range [2][]uint8{f0, f1} {
				for p := range a {
					for q := range a {
						var s int32
						for y := range a {
							for x := range a {
								s += bt[p][y] * int32(f[at+y*wf+x]) * bt[q][x]
							}
						}
						e := &v[(a*p+q)*xs+8*k+i]
						*e = *e&^(0xffff<<(16*c)) | uint32(uint16(int16(s)))<<(16*c)
					}
				}
			}
		}
	}
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

// wgOutputGo writes the r×r outputs of one channel's nv vectors of 8
// tiles (M of the channel at mrow[ξ·xs + t]) into its plane acc (rows ldp
// apart), vector k's first tile at offs[k], the others as wgTile places
// them: Aᵀ M A (wrapping), divided by 4 (r = 2) or 576 (r = 4, by wgInv9
// and a shift) exactly.
func wgOutputGo(r int, acc, mrow []int32, xs int, offs []int32, half, q1, ldp int) {
	at := wgAT[wgKind(r)]
	a := len(at[0])
	for k, o := range offs {
		for i := range 8 {
			base := int(o) + wgTile(i, r, q1, half)
			for u := range r {
				for w := range r {
					var s int32
					for p := range a {
						for q := range a {
							s += at[u][p] * mrow[(a*p+q)*xs+8*k+i] * at[w][q]
						}
					}
					if r == 4 {
						s = s * wgInv9 >> 6
					} else {
						s >>= 2
					}
					acc[base+u*ldp+w] = s
				}
			}
		}
	}
}

// wgKernels are the passes of a Winograd convolution, in Go or assembly
// (host.wg; gemm nil where the CPU takes the direct kernels, input4 nil
// where it has no F(4×4) passes). The F(4×4) passes take a scratch of
// wgScratch uint32s.
type wgKernels struct {
	input   func(v []uint32, xs int, f0, f1 []uint8, offs []int32, half, wf int)
	gemm    func(mo []int32, ldm int, u, v []uint32, ldv, cp, nv, panels int)
	output  func(acc, mrow []int32, xs int, offs []int32, half, ldp int)
	input4  func(v []uint32, xs int, f0, f1 []uint8, offs []int32, half, q1, wf int, scratch []uint32)
	output4 func(acc, mrow []int32, xs int, offs []int32, half, q1, ldp int, scratch []uint32)
}

// wgScratch is the F(4×4) passes' scratch: a vector's 36 intermediate
// rows of 8 lanes.
const wgScratch = 36 * 8

// wgGoKernels are the passes in Go.
var wgGoKernels = wgKernels{
	input: func(v []uint32, xs int, f0, f1 []uint8, offs []int32, half, wf int) {
		wgInputGo(2, v, xs, f0, f1, offs, half, 4, wf)
	},
	gemm: wgGemmGo,
	output: func(acc, mrow []int32, xs int, offs []int32, half, ldp int) {
		wgOutputGo(2, acc, mrow, xs, offs, half, 4, ldp)
	},
	input4: func(v []uint32, xs int, f0, f1 []uint8, offs []int32, half, q1, wf int, _ []uint32) {
		wgInputGo(4, v, xs, f0, f1, offs, half, q1, wf)
	},
	output4: func(acc, mrow []int32, xs int, offs []int32, half, q1, ldp int, _ []uint32) {
		wgOutputGo(4, acc, mrow, xs, offs, half, q1, ldp)
	},
}

// frameBytes is the frames of one image: every input channel's.
func (p *wgPlan) frameBytes() int { return p.inC * p.hf * p.wf }

// vLen and mLen size a block's V (uint32s) and M (int32s).
func (p *wgPlan) vLen() int { return p.np * p.vxs }
func (p *wgPlan) mLen() int { return p.np * p.mxs }

// run computes the int32 accumulators of p.images images (fewer for the
// batch's last group: nb) into acc, output channel c's plane of image i
// at (c·p.images + i)·p.plane, rows p.ldp apart, from frames: input
// channel c's of image i at c·cf + i·hf·wf, their borders zx. Where src
// is not nil the frames take its interiors first (input channel c of
// image i at src[c·chStride + i·H·W:], H×W); else a producer wrote them
// (step.framed). Then block by block over the group's tiles the input
// transform, the np GEMMs and the output transform. v and m hold a
// block's V and M, scratch the F(4×4) passes' (wgScratch).
func (p *wgPlan) run(k *wgKernels, acc []int32, src []uint8, chStride, H, W, nb int, frames []uint8, cf int, v []uint32, m []int32, scratch []uint32, frameRows func(dst, src []uint8, rows, w, dstStride, planes, dstPlane int)) {
	if src != nil {
		fp := p.hf * p.wf
		for c := range p.inC {
			frameRows(frames[c*cf+p.ph*p.wf+p.pw:], src[c*chStride:][:nb*H*W], H, W, p.wf, nb, fp)
		}
	}
	panels, cacc := p.mp/4, p.images*p.plane
	total := nb * p.tpi
	for t0 := 0; t0 < total; t0 += p.tb {
		nv := ceilDiv(min(p.tb, total-t0), 8) // pairs: an odd last image's vector computes a dropped one
		in, out := p.inOffs[t0/8:][:nv], p.outOffs[t0/8:][:nv]
		for j := range p.cp {
			f0, f1 := p.frame(frames, cf, 2*j), p.frame(frames, cf, 2*j+1)
			if p.r == 4 {
				k.input4(v[j*p.tb:], p.vxs, f0, f1, in, p.inHalf, p.inQ1, p.wf, scratch)
			} else {
				k.input(v[j*p.tb:], p.vxs, f0, f1, in, p.inHalf, p.wf)
			}
		}
		for xi := range p.np {
			k.gemm(m[xi*p.mxs:], p.tb, p.u[xi*panels*p.cp*4:], v[xi*p.vxs:], p.tb, p.cp, nv, panels)
		}
		for r := range p.m {
			if p.r == 4 {
				k.output4(acc[r*cacc:], m[r*p.tb:], p.mxs, out, p.outHalf, p.outQ1, p.ldp, scratch)
			} else {
				k.output(acc[r*cacc:], m[r*p.tb:], p.mxs, out, p.outHalf, p.ldp)
			}
		}
	}
}

// wgConv runs conv step s (with a Winograd plan) on n images from src
// into dst, p.images at a time, as tapConv does with its accumulators:
// requantized rows, or with pool the 2×2 maxima requantized.
func (e *engine) wgConv(dst, src []uint8, s *step, n int, pool bool) {
	p := s.wino
	H, W := s.in.shape.H, s.in.shape.W
	oh, ow := p.oh, p.ow
	P, hw := oh*ow, H*W
	frames := e.padbuf[:p.images*p.frameBytes()+slack] // the F(4×4) loads read past the last frame
	var fl *frameLayout                                // the producer wrote the frames (step.framed)
	if s.framedIn {
		fl = e.steps[s.ins[0]-1].framed
	} else {
		fill(frames, s.zx)
	}
	cacc := p.images * p.plane
	acc := e.acc[:p.m*cacc]
	v, m := e.wgV[:p.vLen()], e.wgM[:p.mLen()]
	// Every channel requantizes in one call (planned operands).
	allCh := s.rq != nil && len(s.rq) == p.m && s.rqKind >= 0 && host.requantRowsCh != nil
	for b0 := 0; b0 < n; b0 += p.images {
		nb := min(p.images, n-b0)
		if fl != nil {
			p.run(&host.wg, acc, nil, 0, H, W, nb, src[fl.at(0, b0)-p.ph*p.wf-p.pw:], fl.images*fl.plane(), v, m, e.wgS, nil)
		} else {
			p.run(&host.wg, acc, src[b0*hw:], n*hw, H, W, nb, frames, p.images*p.hf*p.wf, v, m, e.wgS, host.frameRows)
		}
		if f := s.framed; f != nil {
			// Each image's rows into its reader's frames (planned where
			// every channel requantizes in one call and rows fill a
			// vector).
			for i := range nb {
				host.requantRowsCh(dst[f.at(0, b0+i):], f.images*f.plane(), f.Wp, acc[i*p.plane:], cacc, oh, ow, p.ldp, s.rq, s.rqKind)
			}
			continue
		}
		if pool && p.plane == oh*p.ldp {
			// The planes of every channel and image adjoin: one pass
			// pools them all (the group's unused images' too), and a
			// channel's images requantize in one call, every channel's
			// in one where the CPU has requantRowsCh (LeNet-5's conv2: two
			// calls an image and channel of 16 outputs each had cost a
			// third as much as its GEMMs).
			q := P / 4
			pooled := e.pool32[:p.m*p.images*q]
			// The vector pass reads up to a vector past a row pair's
			// pooled half (the planned slack: wgAccSlack).
			e.pool2x2Strided(pooled, e.acc[:p.m*cacc+wgAccSlack], p.m*p.images*oh/2, ow/2, p.ldp)
			if allCh {
				host.requantRowsCh(dst[b0*q:], n*q, nb*q, pooled, p.images*q, 1, nb*q, nb*q, s.rq, s.rqKind)
				continue
			}
			for c := range p.m {
				e.requantOne(dst[(c*n+b0)*q:][:nb*q], pooled[c*p.images*q:][:nb*q], s, c)
			}
			continue
		}
		all := !pool && allCh
		if all && ow >= 8 {
			// Every channel's rows in one call (per image where the
			// planes have rows past the outputs).
			if p.plane == oh*p.ldp {
				host.requantRowsCh(dst[b0*P:], n*P, ow, acc, cacc, nb*oh, ow, p.ldp, s.rq, s.rqKind)
				continue
			}
			for i := range nb {
				host.requantRowsCh(dst[(b0+i)*P:], n*P, ow, acc[i*p.plane:], cacc, oh, ow, p.ldp, s.rq, s.rqKind)
			}
			continue
		}
		first := 0 // images whose rows narrower than a vector are done
		if all && ow < 8 && p.ldp >= 8 {
			// As below, every channel of an image in one call (image
			// after image: a channel's run-over into its next image is
			// overwritten later still); the batch's last image below.
			for ; first < nb && b0+first < n-1; first++ {
				host.requantRowsCh(dst[(b0+first)*P:], n*P, ow, acc[first*p.plane:], cacc, oh, 8, p.ldp, s.rq, s.rqKind)
			}
		}
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
				// Rows of 8 codes stored ow apart, each running into the
				// next rows, which overwrite it (the next image's too: it
				// comes later), where the CPU requantizes planned operands
				// by vectors; the batch's last image (its run-over would
				// reach another channel's) and other CPUs through e.wgOut.
				i := first
				if !all && s.rq != nil && host.requantPre != nil && p.ldp >= 8 {
					for ; i < nb && b0+i < n-1; i++ {
						host.requantPre(dst[(c*n+b0+i)*P:], ow, a[i*p.plane:], p.ldp, oh, 8, &s.rq[c])
					}
				}
				if k := nb - i; k > 0 {
					flat := e.wgOut[:k*p.plane]
					e.requantOne(flat, a[i*p.plane:][:k*p.plane], s, c)
					host.copyRows(dst[(c*n+b0+i)*P:], flat, k, oh, ow, p.ldp, p.plane)
				}
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
