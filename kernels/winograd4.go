package kernels

import "math"

// Winograd F(4×4, 3×3) for the forward, the input gradient and the
// weight gradient of float32 3×3 stride-1 convolutions on AVX-512 CPUs,
// where it beats F(2×2, 3×3) (wino4Use). A 4×4 output tile is
//
//	Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
// with d_c the 6×6 input tile (rows and columns 4t…4t+5 of the padded
// plane): 36 multiplies per channel pair and 16 outputs, 2.25 a output
// against F(2×2, 3×3)'s 4, and 36 transformed values per 16 outputs
// instead of 64. The price is in the transforms: a tile's 6×6 values
// start 4 columns apart. Where a tile row has at most 7 tiles (28×28 and
// 14×14 planes) a vector holds two tile rows, each padded row's two
// vectors permuted into its columns 4t…4t+3 and the two rows' columns
// into the lanes ("rows mode"); planes of 2×2 tiles (7×7, 8×8) put four
// images' tiles in a vector, each tile row of the four loaded as 16-byte
// pieces of the padded rows and unpacked into the lanes, the outputs
// stored the same way backwards ("quad mode"); other small planes hold
// the tiles of up to 16/tiles images, their values gathered and the
// outputs scattered. The weights (G g Gᵀ, every training step) are transformed 16
// kernels a vector too, straight into the GEMM's packed panels
// (wino4WeightsPackedAsm). The output transform fetches a
// chunk's output rows before it stores them (its stores to planes out of
// cache had cost 2x its arithmetic). Bᵀ's and Aᵀ's entries up to 5 and 8
// round more than F(2×2)'s ±1; on values in [−1, 1] the error stays under
// F(2×2)'s bound (TestWinograd4Conv). The weight gradient (wino4RunW)
// sums (A dY Aᵀ) ⊙ (Bᵀ x B) over the tiles for each of the 36 ξ, dY's
// 4×4 tiles transformed by the input transform's loads (wino4DyAVX512 and
// its rows and quad twins), then takes Gᵀ du G.
//
// The transforms multiply by 2, 4 and 8 only (exact) and add in a fixed
// order; wino4InputGo and wino4OutputGo do the same operations in the
// same order, so the assembly matches them bit for bit
// (TestWinograd4TransformsSameBits). The bias is added to m[1][1], which
// Aᵀ's all-ones second column carries to every output of the tile.

// wino4Geom is an F(4×4, 3×3) convolution's geometry: c input planes of
// h×w, padding pad, o output planes of oh×ow in th×tw tiles, the padded
// copy of an input plane hp×wp (plane floats, with the slack the row
// loads read past the last row), and how the transforms' vectors hold
// tiles: rows, two tile rows of at most 7 tiles each (a 28×28 plane's
// 14 tiles, their columns picked from each padded row by permutes), or
// else group images' tiles side by side, 16 / tiles images (at least 1),
// their values gathered.
type wino4Geom struct {
	c, h, w, pad int
	o, oh, ow    int
	th, tw       int
	hp, wp       int
	plane        int
	group        int
	rows         bool
}

func newWino4Geom(c, h, w, pad, o int) wino4Geom {
	oh, ow := h+2*pad-2, w+2*pad-2
	th, tw := (oh+3)/4, (ow+3)/4
	g := wino4Geom{c: c, h: h, w: w, pad: pad, o: o, oh: oh, ow: ow, th: th, tw: tw, hp: 4*th + 2, wp: 4*tw + 2}
	g.group = max(1, 16/(th*tw))
	g.rows = tw <= 7 && g.group == 1
	if g.rows {
		// whole pairs of tile rows; a row's two 16-float loads read
		// up to 32 − wp floats past it
		g.hp = 8*((th+1)/2) + 2
		g.plane = g.hp*g.wp + 32
	} else {
		g.plane = g.hp * g.wp
	}
	return g
}

// quad reports whether a chunk of g is four images' 2×2 tiles (7×7 and
// 8×8 planes: padded rows of 10), which the quad-mode assembly loads and
// stores a tile row of four images at a time, 16-byte pieces shuffled
// into the lanes (unpacks), instead of gathering and scattering each
// value.
func (g wino4Geom) quad() bool { return !g.rows && g.th == 2 && g.tw == 2 }

// pairs is the chunks of an image in rows mode.
func (g wino4Geom) pairs() int { return (g.th + 1) / 2 }

func (g wino4Geom) tiles() int { return g.th * g.tw }

// batch is how many images' tiles one set of 36 GEMMs covers: a multiple
// of the group with the least waste in the 32-column panels among those
// of at most wino4MaxCols columns (V and M of 36 matrices stay in L2),
// the fewest images among equals (BenchmarkWinogradRun: 28×28 planes 3
// images, 14×14 2, 7×7 8; up to 160 columns none was faster).
func (g wino4Geom) batch() int {
	t := g.tiles() * g.group
	best, bw := 1, panelWaste(t)
	for k := 2; k*t <= wino4MaxCols; k++ {
		if w := panelWaste(k * t); w < bw-1e-9 {
			best, bw = k, w
		}
	}
	return best * g.group
}

// wino4MaxCols bounds the columns of a set of GEMMs.
const wino4MaxCols = 160

// wbatch is how many images' tiles the weight gradient transforms before
// its dot products: the most (a multiple of the group) whose transformed
// input and output gradient, 36 rows per channel, fit in wino4WBytes, and
// at least wino4WMinCols tiles.
func (g wino4Geom) wbatch() int {
	per := 36 * 4 * (g.c + g.o) * g.tiles() * g.group
	k := max(1, wino4WBytes/per)
	for k*g.tiles()*g.group < wino4WMinCols {
		k++
	}
	return k * g.group
}

// wino4WMinCols is the fewest tiles a weight-gradient batch covers: each
// 4×4 block of dot products ends in a 16-lane reduction of its sums, which
// on rows of 32 tiles (resnet20's 7×7 planes of 64 channels, where 640 KB
// hold 8 images) cost more than their FMAs. Rows of 128 tiles (32 images,
// 2.4 MB: the dots read each ξ's rows from L3 once, then from L2) took
// that layer's weight gradient from 730 to 540 µs (BenchmarkWinogradRunW,
// 1 worker); 14×14 planes of 32 channels (64 → 128 tiles) and 28×28 ones
// (98 → 147) moved within the noise.
const wino4WMinCols = 128

// wino4WBytes bounds a weight-gradient batch's V and dY (the rest of a
// 1 MB L2 holds the padded planes and the sums).
const wino4WBytes = 640 << 10

// wino4Use reports whether F(4×4, 3×3) runs a convolution of geometry g
// (F(2×2, 3×3) otherwise): on CPUs with the transforms' assembly, planes
// whose vectors take two tile rows (rows ≤ 7 tiles) or several images
// (≤ 8 tiles), and whose 4×4 tiles compute at most a third more outputs
// than F(2×2)'s 2×2 tiles (28×28 and 7×7: as many; 14×14: 31% more, and
// still 8–9% faster in BenchmarkWinogradRun; a 10×10 plane's 12×12 would
// be 44%). Wider planes would gather every value (the first version,
// which ran 28×28 layers 2x slower than F(2×2)).
func wino4Use(fk floatKernel, g winoGeom) bool {
	if !wino512(fk) {
		return false
	}
	g4 := newWino4Geom(g.c, g.h, g.w, g.pad, g.o)
	return (g4.rows || g4.group > 1) && 3*g4.tiles()*16 <= 4*g.tiles()*4
}

// wino4Weights sets u[ξ·ldu + r·k + s] to (G g Gᵀ)[ξ] (6×6) for the 3×3
// kernels of w (o × c × 3 × 3), output channels [lo, hi), laid out as
// winoWeights lays out F(2×2)'s. G's rows are (¼, 0, 0), −⅙(1, 1, 1),
// −⅙(1, −1, 1), (1, 2, 4)/24, (1, −2, 4)/24 and (0, 0, 1): g6 applies
// them to each column, then to each row of the result, in float32.
// wino4WeightsPackedAsm does the same steps 16 kernels at a time.
func wino4Weights(u []float32, ldu int, w []float32, o, c int, back bool, lo, hi int) {
	m, k := o, c
	if back {
		m, k = c, o
	}
	u = u[:35*ldu+m*k]
	for oi := lo; oi < hi; oi++ {
		for ci := 0; ci < c; ci++ {
			g, r, s := winoKernel(w, oi, ci, c, back)
			var t [3][6]float32 // t[j] = G · column j of g
			for j := 0; j < 3; j++ {
				t[j] = g6(g[j], g[3+j], g[6+j])
			}
			for a := 0; a < 6; a++ {
				row := g6(t[0][a], t[1][a], t[2][a])
				for b, v := range row {
					u[(6*a+b)*ldu+r*k+s] = v
				}
			}
		}
	}
}

// g6 is G·(g0, g1, g2).
func g6(g0, g1, g2 float32) [6]float32 {
	const sixth, t24 = 1.0 / 6, 1.0 / 24
	s := g0 + g2
	p := g0 + 4*g2
	q := 2 * g1
	return [6]float32{0.25 * g0, -(s + g1) * sixth, -(s - g1) * sixth, (p + q) * t24, (p - q) * t24, g2}
}

// bt6 is Bᵀ·d for six values d of a tile's row or column.
func bt6(d *[6]float32) (r [6]float32) {
	a := d[4] - 4*d[2]
	q1 := 4 * d[1]
	b := q1 - d[3]
	r[1] = a - b
	r[2] = a + b
	c := d[4] - d[2]
	e := d[3] - d[1]
	e += e
	r[3] = c + e
	r[4] = c - e
	r[0] = (4*d[0] + a) - d[2]
	r[5] = ((q1 - 4*d[3]) - d[3]) + d[5]
	return r
}

// a6 is A·d for the first four values d of a tile's row or column of dY
// (A = Aᵀ's transpose, 6×4): (d0, d0+d1+d2+d3, d0−d1+d2−d3,
// d0+2d1+4d2+8d3, d0−2d1+4d2−8d3, d3).
func a6(d *[6]float32) [6]float32 {
	e := d[0] + d[2]
	f := d[1] + d[3]
	p := d[0] + 4*d[2]
	q := d[1] + 4*d[3]
	q += q
	return [6]float32{d[0], e + f, e - f, p + q, p - q, d[3]}
}

// at6 is Aᵀ·m for six values m of a tile's row or column.
func at6(m *[6]float32) (y [4]float32) {
	p := m[1] + m[2]
	q := m[1] - m[2]
	s := m[3] + m[4]
	d := m[3] - m[4]
	y[0] = (m[0] + p) + s
	y[1] = q + (d + d)
	y[2] = p + 4*s
	y[3] = (q + 8*d) + m[5]
	return y
}

// wino4InChunk is up to 16 tiles of a group, one a lane: what the input
// transforms' assembly reads (in rows mode only idx[0]: the pair's first
// row).
type wino4InChunk struct {
	idx        [16]int32 // each lane's tile: its top left float in the group's planes
	off1, off2 int       // bytes in v of the lanes in the first panel, of those in the next
	k1, k2     uint64    // the lanes stored at off1, at off2
}

// wino4InArgs is what wino4InAVX512 reads (the offsets are its constants).
type wino4InArgs struct {
	nc      int // channels
	plane   int // bytes from one channel's padded plane to the next
	wp4     int // bytes per padded row
	nch     int // chunks
	chunks  *wino4InChunk
	ldx     int // bytes from one ξ's matrix of v to the next
	cs      int // bytes from one channel's row of a panel to the next
	scratch *float32
	// rows mode: the permutes of a padded row's two vectors into its
	// columns 4t + {0, 1} and 4t + {2, 3} (8 tiles each), and of two
	// rows' results into columns j (0 and 2), j (1 and 3), 4 and 5 of
	// the lanes' tiles
	idx [6][16]uint32
	// quad mode: bytes from one image's planes to the next
	istride int
}

// wino4OutChunk is up to 16 tiles of a group, one a lane: what the output
// transforms' assembly reads.
type wino4OutChunk struct {
	idx   [16]int32  // each lane's tile: its top left output in the group's planes
	col   int        // bytes in a row of m of the first lane's column
	lanes uint64     // the lanes in use
	mask  [16]uint16 // per output (i, j) of a tile: the lanes whose (i, j) is in the plane
	// rows mode: per tile row h (0, 1) and output row i, the masks of
	// the row's two stores (rmask[2(4h+i)], rmask[2(4h+i)+1])
	rmask [16]uint16
}

// wino4OutArgs is what wino4OutAVX512 reads.
type wino4OutArgs struct {
	no      int // channels
	ycs     int // bytes between output planes
	mcs     int // bytes between the channels' rows of m
	ldx     int // bytes from one ξ's matrix of m to the next
	ow4     int // bytes per output row
	nch     int
	chunks  *wino4OutChunk
	chp     *float32 // per channel: bias, a, sh, hi (outPost)
	scratch *float32
	// rows mode: the permutes interleaving outputs j = 0, 1 (and 2, 3)
	// of the first tile row's tiles, of the second's, and the pairs'
	// interleave into a row's first and second 16 outputs
	idx [4][16]uint32
	// quad mode: bytes from one image's output planes to the next
	istride int
	// rows mode with a residual sum: the addends, laid out as y
	res *float32
}

// wino4Scratch is a worker's F(4×4) state: padded planes (forward and
// input gradient apart), chunk tables, the assembly's arguments and its
// 36-vector scratch.
type wino4Scratch struct {
	fwd, back winoPlanes[wino4Geom]
	// the weight gradient's output-gradient planes: dY from the first
	// row and column on, zeros after (the input's are fwd)
	dy winoPlanes[wino4Geom]
	// the chunk tables of the batches seen last (tables)
	tabs    []wino4Tables
	ia      wino4InArgs
	oa      wino4OutArgs
	scratch []float32
}

// planes returns the group's padded planes for g, zeroed when g changed.
func (s *wino4Scratch) planes(g wino4Geom, back bool) []float32 {
	pl := &s.fwd
	if back {
		pl = &s.back
	}
	return pl.get(g, g.group*g.c*g.plane+wino4Slack)
}

// wino4Slack is what the quad mode's loads read past a group's last
// padded row (16-byte pieces from each of its columns 8 and 9).
const wino4Slack = 16

// wino4InChunks returns the chunks of the first lanes tiles of a group
// whose first tile is column c0 of v (packed panels of ps floats; ps = nr
// is a row-major V, whose lanes are all stored at off1).
func wino4InChunks(g wino4Geom, lanes, c0, ps int) []wino4InChunk {
	nch := (lanes + 15) / 16
	tiles, step := g.tiles(), 16
	if g.rows {
		nch, step = g.pairs(), 2*g.tw
	}
	in := make([]wino4InChunk, nch)
	for q := range in {
		ch := &in[q]
		u0 := step * q
		col0 := c0 + u0
		first := 32 - col0&31
		if ps == nr {
			first = step
		}
		ch.off1 = 4 * ((col0>>5)*ps + col0&31)
		ch.off2 = 4 * ((col0>>5+1)*ps - first)
		for l := 0; l < step && u0+l < lanes; l++ {
			u := u0 + l
			img, t := u/tiles, u%tiles
			ch.idx[l] = int32(img*g.c*g.plane + 4*(t/g.tw)*g.wp + 4*(t%g.tw))
			if l < first {
				ch.k1 |= 1 << l
			} else {
				ch.k2 |= 1 << l
			}
		}
	}
	return in
}

// wino4OutChunks returns the chunks of the first lanes tiles of a group
// whose first tile is column c0 of m.
func wino4OutChunks(g wino4Geom, lanes, c0 int) []wino4OutChunk {
	nch, step := (lanes+15)/16, 16
	if g.rows {
		nch, step = g.pairs(), 2*g.tw
	}
	out := make([]wino4OutChunk, nch)
	tiles, outImg := g.tiles(), g.o*g.oh*g.ow
	for q := range out {
		ch := &out[q]
		u0 := step * q
		ch.col = 4 * (c0 + u0)
		if g.quad() {
			// quad mode: per tile row h and output row i, the masks of
			// a row's two 4-float pieces
			for h := 0; h < 2; h++ {
				for i := 0; i < 4; i++ {
					if 4*h+i < g.oh {
						ch.rmask[2*(4*h+i)] = uint16(1<<min(4, g.ow) - 1)
						ch.rmask[2*(4*h+i)+1] = uint16(1<<min(4, max(0, g.ow-4)) - 1)
					}
				}
			}
		}
		if g.rows {
			for h := 0; h < 2; h++ {
				for i := 0; i < 4; i++ {
					if y := 4*(2*q+h) + i; 2*q+h < g.th && y < g.oh {
						ch.rmask[2*(4*h+i)] = uint16(1<<min(16, g.ow) - 1)
						ch.rmask[2*(4*h+i)+1] = uint16(1<<max(0, g.ow-16) - 1)
					}
				}
			}
		}
		for l := 0; l < step && u0+l < lanes; l++ {
			u := u0 + l
			img, t := u/tiles, u%tiles
			ty, tx := t/g.tw, t%g.tw
			ch.idx[l] = int32(img*outImg + 4*ty*g.ow + 4*tx)
			ch.lanes |= 1 << l
			for i := 0; i < 4; i++ {
				for j := 0; j < 4; j++ {
					if 4*ty+i < g.oh && 4*tx+j < g.ow {
						ch.mask[4*i+j] |= 1 << l
					}
				}
			}
		}
	}
	return out
}

// wino4Tables are the chunks of each group of a batch of k images of
// geometry g whose V is laid out in panels of ps floats (packed: g.c·nr;
// the weight gradient's rows: nr).
type wino4Tables struct {
	g   wino4Geom
	k   int
	ps  int
	in  [][]wino4InChunk
	out [][]wino4OutChunk
}

// wino4TablesKept is how many batches' tables a worker keeps: a layer's
// forward and input gradient (two geometries where the channels in and
// out differ) and its weight gradient's input and output gradient, each
// with its full batches and its last, shorter one, for every geometry of
// a graph whose convolutions share a Workspace (resnet20 has three).
// Rebuilding them at every change had cost 5–9% of a 28×28 layer on two
// workers.
const wino4TablesKept = 48

// tables returns the chunk tables of a batch of k images of geometry g
// with panels of ps floats, built on first use. (A copy: a later call may
// move the kept ones.)
func (s *wino4Scratch) tables(g wino4Geom, k, ps int) wino4Tables {
	for i := range s.tabs {
		if s.tabs[i].g == g && s.tabs[i].k == k && s.tabs[i].ps == ps {
			return s.tabs[i]
		}
	}
	t := wino4Tables{g: g, k: k, ps: ps}
	tiles := g.tiles()
	for j0 := 0; j0 < k; j0 += g.group {
		gk := min(g.group, k-j0)
		t.in = append(t.in, wino4InChunks(g, gk*tiles, j0*tiles, ps))
		if ps == g.c*nr {
			t.out = append(t.out, wino4OutChunks(g, gk*tiles, j0*tiles))
		}
	}
	if len(s.tabs) == wino4TablesKept {
		copy(s.tabs, s.tabs[1:])
		s.tabs = s.tabs[:wino4TablesKept-1]
	}
	s.tabs = append(s.tabs, t)
	return t
}

// wino4InputGo is wino4InAVX512 in Go: for each chunk and channel, the
// lanes' 6×6 tiles of p transformed, rows then columns, into v; with dy
// (wino4DyAVX512) the lanes' 4×4 tiles by a6.
func wino4InputGo(v, p []float32, a *wino4InArgs, chunks []wino4InChunk, dy bool) {
	n, tf := 6, bt6
	if dy {
		n, tf = 4, a6
	}
	for qi := range chunks {
		ch := &chunks[qi]
		for c := 0; c < a.nc; c++ {
			pc := p[c*a.plane/4:]
			for l := 0; l < 16; l++ {
				var off int
				switch {
				case ch.k1>>l&1 != 0:
					off = ch.off1/4 + l
				case ch.k2>>l&1 != 0:
					off = ch.off2/4 + l
				default:
					continue
				}
				off += c * a.cs / 4
				var h [6][6]float32
				for i := 0; i < n; i++ {
					var d [6]float32
					copy(d[:n], pc[int(ch.idx[l])+i*a.wp4/4:])
					h[i] = tf(&d)
				}
				for j := 0; j < 6; j++ {
					d := [6]float32{h[0][j], h[1][j], h[2][j], h[3][j], h[4][j], h[5][j]}
					r := tf(&d)
					for i := 0; i < 6; i++ {
						v[(6*i+j)*a.ldx/4+off] = r[i]
					}
				}
			}
		}
	}
}

// wino4OutputGo is the output transforms' assembly in Go: for each chunk
// and channel, the lanes' 6×6 products transformed, columns then rows,
// plus the bias (chp[4o]), through post (postValue: the batch norm, the
// residual addend from res, the clamp) into the outputs in the plane.
func wino4OutputGo(y, m []float32, a *wino4OutArgs, chunks []wino4OutChunk, chp, res []float32, post int) {
	for qi := range chunks {
		ch := &chunks[qi]
		for o := 0; o < a.no; o++ {
			mo := m[o*a.mcs/4+ch.col/4:]
			yo := y[o*a.ycs/4:]
			var ro []float32
			if res != nil {
				ro = res[o*a.ycs/4:]
			}
			for l := 0; l < 16; l++ {
				if ch.lanes>>l&1 == 0 {
					continue
				}
				var z [4][6]float32
				for s := 0; s < 6; s++ {
					var col [6]float32
					for r := 0; r < 6; r++ {
						col[r] = mo[(6*r+s)*a.ldx/4+l]
					}
					if s == 1 {
						col[1] += chp[4*o]
					}
					t := at6(&col)
					for i := range t {
						z[i][s] = t[i]
					}
				}
				for i := 0; i < 4; i++ {
					row := at6(&z[i])
					for j, val := range row {
						if ch.mask[4*i+j]>>l&1 != 0 {
							at := int(ch.idx[l]) + i*a.ow4/4 + j
							var r float32
							if ro != nil {
								r = ro[at]
							}
							yo[at] = postValue(val, chp[4*o:4*o+4], r, post)
						}
					}
				}
			}
		}
	}
}

// An evaluation batch norm the F(4×4) output transform applies to each
// output it writes (Conv2dBNEval): none, the channel's a·y + sh by an FMA
// (affineY's main loop), or that clamped to [0, hi] (affineClampY's).
// In rows mode, also the residual sum of Conv2dBNAddEval, unclamped
// (addAVX2's) or clamped (addClampAVX2's).
const (
	postNone = iota
	postAffine
	postClamp
	postRes
	postResClamp
)

// outPost is the batch norm of an output transform: per channel a and sh,
// then, where res is not nil (rows mode), the sum with res (the whole
// batch's addends, laid out as the output), and the clamp to [0, hi]
// where hi > 0.
type outPost struct {
	a, sh []float32
	hi    float32
	res   []float32
}

func (p *outPost) mode() int {
	switch {
	case p == nil:
		return postNone
	case p.res != nil && p.hi > 0:
		return postResClamp
	case p.res != nil:
		return postRes
	case p.hi > 0:
		return postClamp
	}
	return postAffine
}

// postValue is the assembly's post on one value, chp the channel's (bias,
// a, sh, hi), r its residual addend: a·v + sh rounded once (float64's FMA
// of float32 values: the product is exact, and a sum rounded to float64
// then to float32 differs from one rounding only on a float32 tie, which
// no test value hits), plus r, then min(max(·, 0), hi) with a NaN kept.
func postValue(v float32, chp []float32, r float32, post int) float32 {
	if post == postNone {
		return v
	}
	v = float32(math.FMA(float64(chp[1]), float64(v), float64(chp[2])))
	if post == postRes || post == postResClamp {
		v += r
	}
	if (post == postClamp || post == postResClamp) && v == v {
		v = min(max(v, 0), chp[3])
	}
	return v
}

// wino4Conv holds a convolution's F(4×4, 3×3) weights: 36 matrices.
type wino4Conv struct {
	winoPacked
	chp []float32 // run's per-channel parameters (wino4OutArgs.chp)
}

// setWeights transforms w (o × c × 3 × 3) into the 36 packed matrices (16
// kernels a vector by wino4WeightsPackedAsm: F(4×4) runs only where it
// does).
func (wc *wino4Conv) setWeights(w []float32, o, c int, back bool, nw int) {
	if !wc.setPacked(hostFloatKernel, w, o, c, back, nw, 36, func(dst []float32, ldu, lo, hi int) bool {
		return wino4WeightsPackedAsm(hostFloatKernel, dst, ldu, w, o, c, back, lo, hi)
	}) {
		panic("kernels: F(4×4) weights on a CPU without their assembly")
	}
}

// run computes dst (n images of g.o planes g.oh × g.ow) from src (n images
// of g.c planes g.h × g.w) as winoConv.run does, by F(4×4, 3×3); goT runs
// the Go transforms instead of the assembly (tests). It needs A packed for
// fk (wino512).
func (wc *wino4Conv) run(fk floatKernel, g wino4Geom, ws []winoWorker, back, goT bool, src []float32, in *inMap, dst, bias []float32, post *outPost, n int, done func(wk, i int, yi []float32)) {
	tiles := g.tiles()
	nb := g.batch()
	inImg, outImg := g.c*g.h*g.w, g.o*g.oh*g.ow
	_, _ = src[n*inImg-1], dst[n*outImg-1]
	if wc.mul[0].pa.kern != fk {
		panic("kernels: wino4Conv.run: weights not packed for this kernel")
	}
	wc.chp = grow(wc.chp, 4*g.o)
	clear(wc.chp)
	for o := range g.o {
		if bias != nil {
			wc.chp[4*o] = bias[o]
		}
		if post != nil {
			wc.chp[4*o+1], wc.chp[4*o+2], wc.chp[4*o+3] = post.a[o], post.sh[o], post.hi
		}
	}
	mode := post.mode()
	split(len(ws), n, func(wk, lo, hi int) {
		cw := &ws[wk]
		s := &cw.w4
		p := s.planes(g, back)
		s.scratch = grow(s.scratch, 36*16)
		for i0 := lo; i0 < hi; i0 += nb {
			k := min(nb, hi-i0)
			cols := k * tiles
			ldv, ldm := cw.batchBufs(36, g.c, g.o, cols)
			tab := s.tables(g, k, g.c*nr)
			for j0 := 0; j0 < k; j0 += g.group {
				gk := min(g.group, k-j0)
				for j := 0; j < gk; j++ {
					im := i0 + j0 + j
					padIn(fk, p[j*g.c*g.plane+g.pad*g.wp+g.pad:], src[im*inImg:(im+1)*inImg], g.c, g.h, g.w, g.h*g.w, g.plane, g.wp, in)
				}
				s.input(goT, cw.v, ldv, tab.in[j0/g.group], j0*tiles, gk*tiles, p, g)
			}
			for x := range wc.mul {
				winoGemm(fk, &wc.mul[x].pa, cw.v[x*ldv:(x+1)*ldv], cols, cw.m[x*ldm:(x+1)*ldm], cols)
			}
			for j0 := 0; j0 < k; j0 += g.group {
				gk := min(g.group, k-j0)
				var res []float32
				if post != nil && post.res != nil {
					res = post.res[(i0+j0)*outImg : (i0+j0+gk)*outImg]
				}
				s.output(goT, dst[(i0+j0)*outImg:(i0+j0+gk)*outImg], cw.m, ldm, cols, tab.out[j0/g.group], j0*tiles, gk*tiles, wc.chp, res, mode, g)
				if done != nil {
					for j := 0; j < gk; j++ {
						im := i0 + j0 + j
						done(wk, im, dst[im*outImg:(im+1)*outImg])
					}
				}
			}
		}
	})
}

// wino4RunW sets dw (g.o × g.c × 3 × 3) to the weight gradient of the n
// images of x and dy by F(4×4, 3×3) over the workers ws (goT: the Go
// transforms): for each of the 36 ξ, du[ξ] (o × c) = Σ_t (A dY_t Aᵀ)[ξ] ·
// (Bᵀ x_t B)[ξ] over all tiles (dot products over rows of tiles, as
// winoRunW's), then dW = Gᵀ du G, a GEMM with wino4GradMatrix. Against
// F(2×2)'s 16 products per 2×2 tile, 36 per 4×4.
func wino4RunW(fk floatKernel, g wino4Geom, ws []winoWorker, goT bool, x []float32, in *inMap, dy, dw []float32, n int) {
	tiles := g.tiles()
	nb := g.wbatch()
	gd := newWino4Geom(g.o, g.h, g.w, g.pad, g.c) // dY's planes: o of them
	inImg, outImg := g.c*g.h*g.w, g.o*g.oh*g.ow
	oc := g.o * g.c
	_, _, _ = x[n*inImg-1], dy[n*outImg-1], dw[oc*9-1]
	split(len(ws), n, func(wk, lo, hi int) {
		cw := &ws[wk]
		s := &cw.w4
		px, pd := s.planes(g, false), s.dy.get(gd, g.group*g.o*g.plane+wino4Slack)
		s.scratch = grow(s.scratch, 36*16)
		cw.du = grow(cw.du, 36*oc)
		if lo == hi {
			clear(cw.du[:36*oc])
			return
		}
		for i0 := lo; i0 < hi; i0 += nb {
			k := min(nb, hi-i0)
			cols := k * tiles
			ldv, ldw, ldt := cw.rowBufs(36, g.c, g.o, cols)
			tx, td := s.tables(g, k, nr), s.tables(gd, k, nr)
			for j0 := 0; j0 < k; j0 += g.group {
				gk := min(g.group, k-j0)
				for j := 0; j < gk; j++ {
					im := i0 + j0 + j
					padIn(fk, px[j*g.c*g.plane+g.pad*g.wp+g.pad:], x[im*inImg:(im+1)*inImg], g.c, g.h, g.w, g.h*g.w, g.plane, g.wp, in)
					padRows(fk, pd[j*g.o*g.plane:], dy[im*outImg:(im+1)*outImg], g.o, g.oh, g.ow, g.oh*g.ow, g.plane, g.wp)
				}
				s.transform(goT, false, cw.v, ldv, nr, ldt, tx.in[j0/g.group], j0*tiles, gk*tiles, px, g)
				s.transform(goT, true, cw.m, ldw, nr, ldt, td.in[j0/g.group], j0*tiles, gk*tiles, pd, gd)
			}
			cw.dots(fk, 36, cw.m, ldw, cw.v, ldv, ldt, cols, g.o, g.c, i0 != lo)
		}
	})
	wino4GradBack(ws, g.o, g.c, dw)
}

// wino4GradBack adds the workers' F(4×4) weight-gradient sums (36
// matrices of o × c, in worker order) and transforms them back into dw
// (o × c × 3 × 3): Gᵀ du G as one GEMM with wino4GradK, a block of output
// channels per worker.
func wino4GradBack(ws []winoWorker, o, c int, dw []float32) {
	oc := o * c
	du := ws[0].du[:36*oc]
	split(len(ws), o, func(wk, lo, hi int) {
		winoSumWorkers(ws, 36, o, c, lo, hi)
		ws[wk].g.Sgemm(dw[lo*c*9:hi*c*9], 9, true, false, (hi-lo)*c, 9, 36, 1, du[lo*c:], oc, wino4GradK[:], 9, 0)
	})
}

// wino4GradK is Gᵀ·du·G as a matrix (read only).
var wino4GradK = wino4GradMatrix()

// wino4GradMatrix is Gᵀ·du·G as a matrix: dW[i][j] = Σ_ξ du[ξ]·K[ξ][3i+j]
// with K[6a+b][3i+j] = G[a][i]·G[b][j] (rounded once from float64).
func wino4GradMatrix() *[36 * 9]float32 {
	var k [36 * 9]float32
	gm := [6][3]float64{{0.25, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}}
	for a := range 6 {
		for b := range 6 {
			for i := range 3 {
				for j := range 3 {
					k[(6*a+b)*9+3*i+j] = float32(gm[a][i] * gm[b][j])
				}
			}
		}
	}
	return &k
}

// input transforms the first lanes tiles of a group's padded planes p into
// v (packed panels, matrices ldv floats apart) from column c0 on, by the
// chunks wino4InChunks made for them.
func (s *wino4Scratch) input(goT bool, v []float32, ldv int, chunks []wino4InChunk, c0, lanes int, p []float32, g wino4Geom) {
	s.transform(goT, false, v, ldv, g.c*nr, nr, chunks, c0, lanes, p, g)
}

// transform is input with V's layout given: channel ch's value of tile
// column col at (col>>5)·ps + ch·cs + col&31 (packed: ps = g.c·nr, cs =
// nr; the weight gradient's rows: ps = nr, cs = the row stride). dy
// transforms output-gradient planes instead (A·dY·Aᵀ of each tile's 4×4
// values, the planes holding dY from their first row and column on).
func (s *wino4Scratch) transform(goT, dy bool, v []float32, ldv, ps, cs int, chunks []wino4InChunk, c0, lanes int, p []float32, g wino4Geom) {
	a := &s.ia
	*a = wino4InArgs{nc: g.c, plane: 4 * g.plane, wp4: 4 * g.wp, nch: len(chunks), chunks: &chunks[0], ldx: 4 * ldv, cs: 4 * cs, scratch: &s.scratch[0]}
	if g.rows {
		tw := uint32(g.tw)
		for l := uint32(0); l < 16; l++ {
			a.idx[0][l] = 4*(l%8) + l/8 // D = [columns 4t | 4t+1]
			a.idx[1][l] = 4*(l%8) + l/8 + 2
			// lanes < tw: the first row's tile l, then the second's
			a.idx[2][l], a.idx[3][l], a.idx[4][l], a.idx[5][l] = l, 8+l, l+1, 9+l
			if l >= tw {
				b := 16 + l - tw
				a.idx[2][l], a.idx[3][l], a.idx[4][l], a.idx[5][l] = b, 8+b, b+1, 9+b
			}
			for k := 2; k < 6; k++ {
				a.idx[k][l] &= 31
			}
		}
	}
	quad, slack := g.quad() && lanes == 16, 0
	if quad {
		a.istride = 4 * g.c * g.plane
		slack = wino4Slack
	}
	// every lane's last store and every load in bounds
	last := c0 + lanes - 1
	_ = v[35*ldv+(last>>5)*ps+(g.c-1)*cs+last&31]
	_ = p[(lanes-1)/g.tiles()*g.c*g.plane+g.c*g.plane-1+slack]
	if goT {
		wino4InputGo(v, p, a, chunks, dy)
		return
	}
	wino4InAsm(g.rows, quad, dy, v, p, a)
}

// output writes the group's planes y from the first lanes columns of m
// from column c0 on (matrices ldm floats apart, channels' rows cols
// apart), by the chunks wino4OutChunks made for them.
func (s *wino4Scratch) output(goT bool, y, m []float32, ldm, cols int, chunks []wino4OutChunk, c0, lanes int, chp, res []float32, post int, g wino4Geom) {
	a := &s.oa
	*a = wino4OutArgs{no: g.o, ycs: 4 * g.oh * g.ow, mcs: 4 * cols, ldx: 4 * ldm, ow4: 4 * g.ow, nch: len(chunks), chunks: &chunks[0], chp: &chp[0], scratch: &s.scratch[0]}
	if g.rows {
		tw := uint32(g.tw)
		for l := uint32(0); l < 16; l++ {
			a.idx[0][l] = l/2 + 16*(l%2)
			a.idx[1][l] = (tw + l/2 + 16*(l%2)) & 31
		}
		for l := uint32(0); l < 8; l++ {
			a.idx[2][2*l] = l/2 + 8*(l%2)
			a.idx[3][2*l] = 4 + l/2 + 8*(l%2)
		}
	}
	quad := g.quad() && lanes == 16
	if quad {
		a.istride = 4 * g.o * g.oh * g.ow
	}
	_ = y[((lanes-1)/g.tiles()+1)*g.o*g.oh*g.ow-1]
	_ = m[35*ldm+(g.o-1)*cols+c0+(len(chunks)*16)-1]
	_ = chp[4*g.o-1]
	if (post == postRes || post == postResClamp) != (res != nil) || res != nil && (!g.rows || len(res) != len(y)) {
		panic("kernels: wino4Scratch.output: a residual sum needs rows mode and addends laid out as y")
	}
	if res != nil {
		a.res = &res[0]
	}
	if goT {
		wino4OutputGo(y, m, a, chunks, chp, res, post)
		return
	}
	wino4OutAsm(g.rows, quad, post, y, m, a)
}
