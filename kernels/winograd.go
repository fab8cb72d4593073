package kernels

// Winograd F(2×2, 3×3) for float32 3×3 stride-1 convolutions: the forward,
// the input gradient (a convolution of dy with the kernel turned half round)
// and the weight gradient (winoRunW), where F(4×4, 3×3) (winograd4.go)
// does not run. resnet20's 16–64-channel 3×3 layers ran the 8×32
// microkernel at the core's FMA peak; the only way left to go faster was
// fewer multiplies.
// A 2×2 output tile is
//
//	Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
//
// with d_c the 4×4 input tile of channel c (rows and columns 2t…2t+3 of the
// padded plane) and g_c the 3×3 kernel: 16 multiplies per channel pair and
// tile instead of 36. For each of the 16 positions ξ of the transformed tile
// the sum over channels is one GEMM, M[ξ] (O × tiles) = U[ξ] (O × C) ·
// V[ξ] (C × tiles), run by the packed GEMM. The transforms (adds and
// subtracts only; G's halves are exact) are assembly, 16 tiles a vector on
// AVX-512 and 8 on AVX2 (winograd8_amd64.go); winoInputGo, winoDyGo and
// winoOutputGo are the same operations in the same order, for other CPUs'
// tests and as the assembly's reference.
//
// The sums are in another order than the direct convolution's, and G's and
// A's ±1 combinations round differently: outputs agree with the direct
// GEMM to a few ulps of the largest term (TestWinogradConv).

// winoGeom is one Winograd convolution's geometry: c input planes of h×w,
// padding pad on every side, o output planes of oh×ow, th×tw tiles, and the
// zero-padded copy of an input plane, hp rows of stride wp (plane floats in
// all, with the slack the assembly's loads read past the last row). Planes
// of at most 7 tiles a row put two tile rows in each vector (two): rows of
// 2·tw+2 columns, two rows of slack at the bottom. Otherwise a row of tiles
// is 16 tiles at a time, whose loads of 34 columns stay inside each row.
type winoGeom struct {
	c, h, w, pad int
	o, oh, ow    int
	th, tw       int
	hp, wp       int
	plane        int
	two          bool
	// the zero-padded copy of an output-gradient plane (the weight
	// gradient): dhp rows of stride dwp, dplane floats with slack
	dhp, dwp int
	dplane   int
}

func newWinoGeom(c, h, w, pad, o int) winoGeom {
	oh, ow := h+2*pad-2, w+2*pad-2
	th, tw := (oh+1)/2, (ow+1)/2
	g := winoGeom{c: c, h: h, w: w, pad: pad, o: o, oh: oh, ow: ow, th: th, tw: tw, two: tw <= 7}
	if g.two {
		g.hp, g.wp = 2*th+4, 2*tw+2
	} else {
		g.hp, g.wp = 2*th+2, 32*((tw+15)/16)+2
	}
	g.plane = g.hp*g.wp + 16
	if g.two {
		g.dhp, g.dwp = 2*th+2, 2*tw
	} else {
		g.dhp, g.dwp = 2*th, 32*((tw+15)/16)
	}
	g.dplane = g.dhp*g.dwp + 16
	return g
}

func (g winoGeom) tiles() int { return g.th * g.tw }

// imageBytes is the scratch one image needs: its transformed input and
// products (16 values per tile and channel, in and out) and its padded
// planes.
func (g winoGeom) imageBytes() int {
	return 4 * (16*(g.c+g.o)*g.tiles() + g.c*g.plane + g.o*g.dplane)
}

// winoMaxImageBytes bounds imageBytes: a worker holds one image's (or a
// few small ones') transforms at a time, which for a 224×224 plane of 64
// channels would be 100 MB; such layers run the direct GEMM.
const winoMaxImageBytes = 8 << 20

// winoMinChannels is the fewest input and output channels a convolution
// needs for Winograd: the GEMMs' depth is the input channels (a 3-channel
// first layer would multiply 3-deep), and the transforms cost per channel
// what the GEMM saves per channel pair.
const winoMinChannels = 16

// winoBatch is how many images' tiles one set of GEMMs covers: enough for
// about 128 columns (resnet20's 7×7 planes have 16 tiles each), with the
// least waste in the microkernel's 32-column panels.
func winoBatch(tiles int) int {
	if tiles >= 96 {
		return 1
	}
	best, bw := 1, panelWaste(tiles)
	for k := 2; k*tiles <= 256; k++ {
		if w := panelWaste(k * tiles); w < bw-1e-9 || (best*tiles < 96 && w <= bw+1e-9) {
			best, bw = k, w
		}
	}
	return best
}

// winoKernel returns the 3×3 kernel of output channel oi and input channel
// ci of w (… × c × 3 × 3) and its row r and column s in the transformed
// weights' matrices: (oi, ci) for the forward; for the input gradient
// (back) (ci, oi) and the kernel turned half round.
func winoKernel(w []float32, oi, ci, c int, back bool) (g [9]float32, r, s int) {
	src := w[(oi*c+ci)*9 : (oi*c+ci)*9+9]
	if back {
		for i := range g {
			g[i] = src[8-i]
		}
		return g, ci, oi
	}
	copy(g[:], src)
	return g, oi, ci
}

// winoWeights sets u[ξ·ldu + r·k + s] to (G g Gᵀ)[ξ] for the m×k matrix of
// 3×3 kernels of w (o × c × 3 × 3), for the output channels [lo, hi): r =
// output and s = input channel for the forward (m = o, k = c); for the
// input gradient (back) r = c and s = o and each kernel is turned half
// round. Disjoint ranges write disjoint entries.
func winoWeights(u []float32, ldu int, w []float32, o, c int, back bool, lo, hi int) {
	m, k := o, c
	if back {
		m, k = c, o
	}
	u = u[:15*ldu+m*k] // bounds checked once; a slice, not a read (other workers write the rest)
	for oi := lo; oi < hi; oi++ {
		for ci := 0; ci < c; ci++ {
			g, r, s := winoKernel(w, oi, ci, c, back)
			// t = G·g (4×3), then u = t·Gᵀ (4×4); G's rows are
			// (1,0,0), (½,½,½), (½,−½,½), (0,0,1).
			var t [4][3]float32
			for j := 0; j < 3; j++ {
				g0, g1, g2 := g[j], g[3+j], g[6+j]
				t[0][j] = g0
				t[1][j] = 0.5 * (g0 + g1 + g2)
				t[2][j] = 0.5 * (g0 - g1 + g2)
				t[3][j] = g2
			}
			for i := 0; i < 4; i++ {
				t0, t1, t2 := t[i][0], t[i][1], t[i][2]
				row := [4]float32{t0, 0.5 * (t0 + t1 + t2), 0.5 * (t0 - t1 + t2), t2}
				for j, v := range row {
					u[(4*i+j)*ldu+r*k+s] = v
				}
			}
		}
	}
}

// winoInputGo writes the transformed tiles Bᵀ d B of one padded plane p
// (rows of stride wp) into v: tile t = ty·tw + tx's value ξ at
// v[ξ·ldx + (u>>5)·ps + (u&31)] for u = t0 + t (ps = 32: row-major
// columns; ps = 32·channels: the GEMM's packed 32-column panels).
func winoInputGo(v []float32, ldx, ps, t0 int, p []float32, wp, th, tw int) {
	for ty := 0; ty < th; ty++ {
		r0 := p[2*ty*wp:]
		r1, r2, r3 := r0[wp:], r0[2*wp:], r0[3*wp:]
		for tx := 0; tx < tw; tx++ {
			j := 2 * tx
			var t [4][4]float32
			for q := 0; q < 4; q++ {
				t[0][q] = r0[j+q] - r2[j+q]
				t[1][q] = r1[j+q] + r2[j+q]
				t[2][q] = r2[j+q] - r1[j+q]
				t[3][q] = r1[j+q] - r3[j+q]
			}
			u := t0 + ty*tw + tx
			o := (u>>5)*ps + u&31
			for i := 0; i < 4; i++ {
				v[(4*i+0)*ldx+o] = t[i][0] - t[i][2]
				v[(4*i+1)*ldx+o] = t[i][1] + t[i][2]
				v[(4*i+2)*ldx+o] = t[i][2] - t[i][1]
				v[(4*i+3)*ldx+o] = t[i][1] - t[i][3]
			}
		}
	}
}

// winoOutputGo writes one output plane y (oh × ow) as Aᵀ m A + b per tile,
// tile (ty, tx)'s value ξ at m[ξ·ldx + ty·tw + tx]; the bottom row and the
// right column of the last tiles are dropped where oh or ow is odd.
func winoOutputGo(y []float32, oh, ow int, m []float32, ldx, th, tw int, b float32) {
	for ty := 0; ty < th; ty++ {
		for tx := 0; tx < tw; tx++ {
			o := ty*tw + tx
			var mm [16]float32
			for x := range mm {
				mm[x] = m[x*ldx+o]
			}
			var z [2][4]float32
			for j := 0; j < 4; j++ {
				z[0][j] = mm[j] + mm[4+j] + mm[8+j]
				z[1][j] = mm[4+j] - mm[8+j] - mm[12+j]
			}
			for i := 0; i < 2 && 2*ty+i < oh; i++ {
				row := y[(2*ty+i)*ow:]
				row[2*tx] = z[i][0] + z[i][1] + z[i][2] + b
				if 2*tx+1 < ow {
					row[2*tx+1] = z[i][1] - z[i][2] - z[i][3] + b
				}
			}
		}
	}
}

// winoInArgs is what the input transform's assembly reads (winoInAVX512:
// the field offsets are its constants; byte counts where it says bytes).
type winoInArgs struct {
	nc    int // channels
	plane int // bytes from one channel's padded plane to the next
	ostep int // bytes the rows move per step (one or two tile rows)
	tp    int // tiles per step
	tiles int // tiles of a plane
	off2  int // bytes from a load's first table to its second
	offq  int // bytes from the tables of columns 2t, 2t+1 to those of 2t+2, 2t+3
	wp4   int // bytes per padded row
	t0    int // the first tile's column
	ps    int // bytes per 32-column panel of v
	ldx   int // bytes from one ξ's matrix to the next
	cs    int // bytes from one channel's row of v to the next
	idx   [4][16]uint32
	win   int // 1: all four columns of a step's tiles are in its two tables
}

// winoOutArgs is what the output transform's assembly reads (winoOutAVX512).
type winoOutArgs struct {
	no    int // channels
	ycs   int // bytes between output planes
	mcs   int // bytes between the channels' rows of m
	ldx   int // bytes from one ξ's matrix to the next
	tp    int // tiles per step
	tiles int
	ow    int
	oh    int
	rowB  int // rows from a step's first store to its second (0: same row)
	offB  int // bytes from a step's first store to its second
	_     int // keeps two at the offset the assembly reads
	two   int // 1: two tile rows per vector
	bias  *float32
	idx   [2][16]uint32
}

// winoTransforms holds a worker's transform arguments.
type winoTransforms struct {
	in   winoInArgs
	out  winoOutArgs
	zero []float32 // the bias of a convolution without one
}

// biasOrZero returns bias, or o zeros for a convolution without one.
func (tr *winoTransforms) biasOrZero(bias []float32, o int) []float32 {
	if bias != nil {
		return bias
	}
	if len(tr.zero) < o {
		tr.zero = make([]float32, o)
	}
	return tr.zero[:o]
}

// batchBufs sizes the worker's V and M for a set of n GEMMs over cols
// columns (V as packed 32-column panels of c rows, M as o rows) and
// returns their matrices' strides.
func (cw *winoWorker) batchBufs(n, c, o, cols int) (ldv, ldm int) {
	panels := (cols + nr - 1) / nr
	ldv, ldm = winoStride(c*panels*nr), winoStride(o*cols)
	cw.v, cw.m = grow(cw.v, n*ldv), grow(cw.m, n*ldm)
	return ldv, ldm
}

// rowBufs sizes the worker's V and M for a weight gradient's n matrices
// over cols tiles (V as c rows, M as the output gradient's o rows, cols
// floats each, ldt apart) and returns their matrices' strides and ldt:
// cols rounded up to whole cache lines, so that every row's vector loads
// in the dot products start on a line (BenchmarkWinoDot, Zen 3: rows of
// 245 floats 66 → 79 GFLOP/s when 256 apart, 196 62 → 64 at 208).
func (cw *winoWorker) rowBufs(n, c, o, cols int) (ldv, ldm, ldt int) {
	ldt = (cols + 15) &^ 15
	ldv, ldm = winoStride(c*ldt), winoStride(o*ldt)
	cw.v, cw.m = grow(cw.v, n*ldv), grow(cw.m, n*ldm)
	return ldv, ldm, ldt
}

// input transforms one image's g.c padded planes p into v: channel c's tile
// t at v[ξ·ldx + c·cs + (u>>5)·ps + (u&31)] for u = t0 + t (winoInputGo).
func (tr *winoTransforms) input(fk floatKernel, v []float32, ldx, ps, cs, t0 int, p []float32, g winoGeom) {
	tr.transform(fk, false, v, ldx, ps, cs, t0, p, g)
}

// dy transforms one image's g.o padded output-gradient planes p into v as
// input does (winoDyGo).
func (tr *winoTransforms) dy(fk floatKernel, v []float32, ldx, ps, cs, t0 int, p []float32, g winoGeom) {
	tr.transform(fk, true, v, ldx, ps, cs, t0, p, g)
}

// transform is input, or dy when dy: the two read padded planes the same
// way and store their tiles in the same places.
func (tr *winoTransforms) transform(fk floatKernel, dy bool, v []float32, ldx, ps, cs, t0 int, p []float32, g winoGeom) {
	nc, plane, wp, goT := g.c, g.plane, g.wp, winoInputGo
	if dy {
		nc, plane, wp, goT = g.o, g.dplane, g.dwp, winoDyGo
	}
	if !winogradCPU(fk) {
		for c := 0; c < nc; c++ {
			goT(v[c*cs:], ldx, ps, t0, p[c*plane:], wp, g.th, g.tw)
		}
		return
	}
	if !wino512(fk) {
		winoTransform8(dy, v, ldx, ps, cs, t0, p, g)
		return
	}
	a := &tr.in
	*a = winoInArgs{nc: nc, plane: 4 * plane, tiles: g.tiles(), wp4: 4 * wp, t0: t0, ps: 4 * ps, ldx: 4 * ldx, cs: 4 * cs}
	a.setSteps(g, wp)
	winoTransformAsm(dy, v, p, a)
}

// setSteps sets how the transforms step through padded planes of g's tiles
// with rows of wp floats: a tile row per step, 16 tiles a chunk (a row's
// two tables 64 bytes apart, the columns two on 8 bytes on), or, for planes
// of at most 7 tiles a row, two tile rows per step (the tables two rows
// apart, all four columns of a tile from the same two tables); and the
// permute indices of the tiles' columns 2t, 2t+1, 2t+2, 2t+3 (the output
// gradient's transform reads the first two).
func (a *winoInArgs) setSteps(g winoGeom, wp int) {
	if g.two {
		a.ostep, a.tp, a.off2, a.offq, a.win = 16*wp, 2*g.tw, 8*wp, 0, 1
		for k := 0; k < 2*g.tw; k++ {
			e := uint32(2 * k)
			if k >= g.tw {
				e = uint32(16 + 2*(k-g.tw))
			}
			for q := range a.idx {
				a.idx[q][k] = e + uint32(q)
			}
		}
		return
	}
	a.ostep, a.tp, a.off2, a.offq = 8*wp, g.tw, 64, 8
	for k := uint32(0); k < 16; k++ {
		a.idx[0][k], a.idx[1][k], a.idx[2][k], a.idx[3][k] = 2*k, 2*k+1, 2*k, 2*k+1
	}
	if g.tw <= 15 {
		// Rows of at most 15 tiles read columns 0–31 only: the third and
		// fourth columns come from the same two tables (lane 15's
		// indices wrap, and its tile is never stored).
		a.win = 1
		for k := uint32(0); k < 16; k++ {
			a.idx[2][k], a.idx[3][k] = (2*k+2)&31, (2*k+3)&31
		}
	}
}

// output writes one image's g.o planes y from m (channel o's tile t value ξ
// at m[ξ·ldx + o·cs + t]) plus the bias (nil: none) (winoOutputGo), then
// post's batch norm (nil: none; the AVX2 transform's only).
func (tr *winoTransforms) output(fk floatKernel, y, m []float32, ldx, cs int, bias []float32, post *wino8Post, g winoGeom) {
	if post != nil && (!winogradCPU(fk) || wino512(fk)) {
		panic("kernels: winoTransforms.output: a post-map for a transform without one")
	}
	if !winogradCPU(fk) {
		for o := 0; o < g.o; o++ {
			var b float32
			if bias != nil {
				b = bias[o]
			}
			winoOutputGo(y[o*g.oh*g.ow:(o+1)*g.oh*g.ow], g.oh, g.ow, m[o*cs:], ldx, g.th, g.tw, b)
		}
		return
	}
	bias = tr.biasOrZero(bias, g.o)
	if !wino512(fk) {
		winoOutput8(y, m, ldx, cs, bias, post, g)
		return
	}
	a := &tr.out
	*a = winoOutArgs{no: g.o, ycs: 4 * g.oh * g.ow, mcs: 4 * cs, ldx: 4 * ldx, tiles: g.tiles(), ow: g.ow, oh: g.oh, bias: &bias[0]}
	if g.two {
		a.tp, a.rowB, a.offB, a.two = 2*g.tw, 2, 8*g.ow, 1
	} else {
		a.tp, a.rowB, a.offB = g.tw, 0, 64
	}
	for j := uint32(0); j < 16; j++ {
		a.idx[0][j] = j/2 + 16*(j%2)
		if g.two {
			if int(j) < 2*g.tw {
				a.idx[1][j] = uint32(g.tw) + j/2 + 16*(j%2)
			}
		} else {
			a.idx[1][j] = 8 + j/2 + 16*(j%2)
		}
	}
	_ = bias[g.o-1]
	winoOutAsm(y, m, g, a)
}

// winoDyGo writes A' dy A'ᵀ of each 2×2 tile of one zero-padded output
// gradient plane p (rows of stride wp) into v, placed as winoInputGo places
// its tiles. A' is A with its last row's sign flipped (its rows (1,0),
// (1,1), (1,−1), (0,1)): the weight gradient's transform flips the sign of
// the products it makes with row or column 3 (winoWeightGrad).
func winoDyGo(v []float32, ldx, ps, t0 int, p []float32, wp, th, tw int) {
	for ty := 0; ty < th; ty++ {
		r0, r1 := p[2*ty*wp:], p[(2*ty+1)*wp:]
		for tx := 0; tx < tw; tx++ {
			d00, d01, d10, d11 := r0[2*tx], r0[2*tx+1], r1[2*tx], r1[2*tx+1]
			s := [4][2]float32{{d00, d01}, {d00 + d10, d01 + d11}, {d00 - d10, d01 - d11}, {d10, d11}}
			u := t0 + ty*tw + tx
			o := (u>>5)*ps + u&31
			for i := 0; i < 4; i++ {
				v[(4*i+0)*ldx+o] = s[i][0]
				v[(4*i+1)*ldx+o] = s[i][0] + s[i][1]
				v[(4*i+2)*ldx+o] = s[i][0] - s[i][1]
				v[(4*i+3)*ldx+o] = s[i][1]
			}
		}
	}
}

// winoWeightGrad sets dw (o × c × 3 × 3) to Gᵀ (σ ⊙ du) G for each channel
// pair, du[ξ·o·c + r·c + s] the sums of products of the transformed tiles
// and σ the signs that A' left out (−1 where exactly one of ξ's row and
// column is 3), for the output channels [lo, hi) only (workers take
// disjoint blocks).
func winoWeightGrad(dw, du []float32, o, c, lo, hi int) {
	oc := o * c
	for r := lo; r < hi; r++ {
		for s := 0; s < c; s++ {
			var x [16]float32
			for i := range x {
				x[i] = du[i*oc+r*c+s]
			}
			// y = Gᵀ·(σ⊙x) (3×4), with σ's −1 on row 3 folded in
			var y [3][4]float32
			for j := 0; j < 4; j++ {
				sj := float32(1)
				if j == 3 {
					sj = -1
				}
				x0, x1, x2, x3 := sj*x[j], sj*x[4+j], sj*x[8+j], -sj*x[12+j]
				y[0][j] = x0 + 0.5*(x1+x2)
				y[1][j] = 0.5 * (x1 - x2)
				y[2][j] = 0.5*(x1+x2) + x3
			}
			out := dw[(r*c+s)*9 : (r*c+s)*9+9]
			for a := 0; a < 3; a++ {
				y0, y1, y2, y3 := y[a][0], y[a][1], y[a][2], y[a][3]
				out[3*a] = y0 + 0.5*(y1+y2)
				out[3*a+1] = 0.5 * (y1 - y2)
				out[3*a+2] = 0.5*(y1+y2) + y3
			}
		}
	}
}

// padArgs is what padRowsAVX512 reads.
type padArgs struct {
	nc, rows, w        int
	srcPlane, dstPlane int // bytes
	dstRow, srcRow     int // bytes
}

// padMapArgs is what padRowsMapAVX512 and padRowsMapFQAVX512 read.
type padMapArgs struct {
	padArgs
	a, b *float32 // per plane
	hi   float32
	fq   *[6]float32
}

// inMap is a batch norm's output map (a Handoff's), applied by a
// convolution as it copies its input into padded planes: plane p's value
// x becomes a[p]·x + b[p] clamped to [0, hi], then, where fq is not nil,
// fake-quantized with fq's constants (foldQuantize's).
type inMap struct {
	a, b []float32
	hi   float32
	fq   *[6]float32
}

// padIn is padRows of a convolution's input planes, mapped by m (padRowsMap)
// when m is not nil.
func padIn(fk floatKernel, dst, src []float32, nc, rows, w, sp, dp, dr int, m *inMap) {
	if m != nil {
		padRowsMap(fk, dst, src, nc, rows, w, sp, dp, dr, m)
		return
	}
	padRows(fk, dst, src, nc, rows, w, sp, dp, dr)
}

// padRowsMapGo is padRowsMap by the batch norm's own kernels (the same
// bits), a row at a time.
func padRowsMapGo(dst, src []float32, nc, rows, w, sp, dp, dr int, m *inMap) {
	kr := bnKernelsFor[float32]()
	clampF, _ := clampFns[float32]()
	for c := 0; c < nc; c++ {
		for r := 0; r < rows; r++ {
			row := dst[c*dp+r*dr : c*dp+r*dr+w]
			kr.affineAct(clampF, row, src[c*sp+r*w:c*sp+r*w+w], m.a[c], m.b[c], float64(m.hi))
			if m.fq != nil {
				foldQuantize(row, row, m.fq)
			}
		}
	}
}

// padRowsGo is padRows in Go.
func padRowsGo(dst, src []float32, nc, rows, w, sp, dp, dr int) {
	for c := 0; c < nc; c++ {
		for r := 0; r < rows; r++ {
			copy(dst[c*dp+r*dr:c*dp+r*dr+w], src[c*sp+r*w:c*sp+r*w+w])
		}
	}
}

// winoPlanes is one image's (or an F(4×4) group's) planes copied into
// zero-bordered planes of one geometry G (winoGeom or wino4Geom).
type winoPlanes[G comparable] struct {
	g G
	p []float32
}

// get returns the planes for geometry g, n floats, zeroed when g changed
// (in the buffer it had when large enough: a Workspace's serve every
// layer): the borders stay zero from image to image.
func (wp *winoPlanes[G]) get(g G, n int) []float32 {
	if wp.g != g || len(wp.p) < n {
		if cap(wp.p) >= n {
			wp.p = wp.p[:n]
			clear(wp.p)
		} else {
			wp.p = make([]float32, n)
		}
		wp.g = g
	}
	return wp.p
}

// winoWorker is one goroutine's Winograd scratch, shared by a
// convolution's forward, input gradient and weight gradient (they run one
// after another).
type winoWorker struct {
	g Gemm
	// x: the input's planes (forward, weight gradient); back: the output
	// gradient's planes as the input gradient's input; dy: the output
	// gradient's planes for the weight gradient
	x, back, dy winoPlanes[winoGeom]
	v, m        []float32 // 16 × c × columns (packed panels on AVX-512) and 16 × o × columns
	du          []float32 // the weight-gradient sums, 16 × o × c
	tr          winoTransforms
	w4          wino4Scratch
	w48         wino48Scratch
}

// winoWorkers returns nw workers' scratch from ws, grown as needed.
func winoWorkers(ws *[]winoWorker, nw int) []winoWorker {
	if len(*ws) < nw {
		*ws = append(*ws, make([]winoWorker, nw-len(*ws))...)
	}
	return (*ws)[:nw]
}

// winoPacked is a convolution's transformed weights as packed GEMM
// operands (16 for F(2×2, 3×3), 36 for F(4×4, 3×3)), for the forward or
// for the input gradient.
type winoPacked struct {
	u   []float32
	mul []mulT[float32]
	// the packed matrices, ldu floats apart, where the transform writes
	// them packed (setPacked); mul's PackedA slices of it
	packed []float32
	// the weights u and mul were made from, to skip the transform and
	// the packing when a call brings the same bits (an evaluation graph
	// run batch after batch)
	from      []float32
	fromShape [3]int
}

// set transforms w (o × c × 3 × 3) into n matrices by transform (which
// writes the matrices' entries of output channels [lo, hi), matrices ldu
// floats apart) and packs them, on nw workers (done serially, it was 2–3%
// of resnet20's 2-thread step on the calling goroutine while the other
// core waited).
func (wp *winoPacked) set(w []float32, o, c int, back bool, nw, n int, transform func(u []float32, ldu, lo, hi int)) {
	shape := [3]int{o, c, 0}
	if back {
		shape[2] = 1
	}
	if wp.fromShape == shape && len(wp.mul) == n && sameBits(wp.from, w) {
		return
	}
	m, k := o, c
	if back {
		m, k = c, o
	}
	ldu := winoStride(m * k)
	wp.u = grow(wp.u, n*ldu)
	if len(wp.mul) != n {
		wp.mul = make([]mulT[float32], n)
	}
	split(nw, o, func(_, lo, hi int) { transform(wp.u, ldu, lo, hi) })
	split(nw, n, func(_, lo, hi int) {
		for x := lo; x < hi; x++ {
			wp.mul[x].setA(false, m, k, wp.u[x*ldu:x*ldu+m*k], k)
		}
	})
	wp.from = append(wp.from[:0], w...)
	wp.fromShape = shape
}

// setPacked is set for a transform that writes the n matrices already
// packed for fk (packed(dst, ldu, lo, hi): the GEMM rows' 16-row groups
// [lo, hi), matrices ldu floats apart), false where packed does not run
// on this CPU (it returns false, asked for no rows): nothing set.
func (wp *winoPacked) setPacked(fk floatKernel, w []float32, o, c int, back bool, nw, n int, packed func(dst []float32, ldu, lo, hi int) bool) bool {
	if !packed(nil, 0, 0, 0) {
		return false
	}
	shape := [3]int{o, c, 0}
	if back {
		shape[2] = 1
	}
	if wp.fromShape == shape && len(wp.mul) == n && wp.mul[0].pa.kern == fk && sameBits(wp.from, w) {
		return true
	}
	m, k := o, c
	if back {
		m, k = c, o
	}
	size := (m + mr - 1) / mr * mr * k
	ldu := winoStride(size)
	wp.packed = grow(wp.packed, n*ldu)
	split(nw, (m+15)/16, func(_, lo, hi int) { packed(wp.packed, ldu, lo, hi) })
	if len(wp.mul) != n {
		wp.mul = make([]mulT[float32], n)
	}
	for x := range wp.mul {
		pa := &wp.mul[x].pa
		// (capped: a later PackA into it stays in its own matrix)
		pa.m, pa.k, pa.kern, pa.data = m, k, fk, wp.packed[x*ldu:x*ldu+size:x*ldu+size]
	}
	wp.from = append(wp.from[:0], w...)
	wp.fromShape = shape
	return true
}

// winoConv holds a convolution's F(2×2, 3×3) weights: 16 matrices; and
// post8, an evaluation batch norm its AVX2 output transform applies (nil:
// none; set by the caller for a run).
type winoConv struct {
	winoPacked
	post8 *wino8Post
}

// wino8Post is an evaluation batch norm the AVX2 output transform applies
// while the outputs are in registers (y·a + sh, then the clamp to [0, hi]
// where clamp), as the pass over the output after it would (affineY,
// affineClampY: the same FMA and clamp, the same bits): per channel its
// bias, a, sh and hi in chp.
type wino8Post struct {
	chp   []float32
	clamp bool
}

// set makes p the post-map of a batch norm a, sh (clamped to [0, hi]
// where clamp) after a convolution with bias (nil: none), reusing p's
// buffer.
func (p *wino8Post) set(bias, a, sh []float32, hi float32, clamp bool) {
	p.chp, p.clamp = grow(p.chp, 4*len(a)), clamp
	for c := range a {
		var b float32
		if bias != nil {
			b = bias[c]
		}
		p.chp[4*c], p.chp[4*c+1], p.chp[4*c+2], p.chp[4*c+3] = b, a[c], sh[c], hi
	}
}

// setWeights transforms w (o × c × 3 × 3) and packs the 16 matrices.
func (wc *winoConv) setWeights(w []float32, o, c int, back bool, nw int) {
	wc.set(w, o, c, back, nw, 16, func(u []float32, ldu, lo, hi int) { winoWeights(u, ldu, w, o, c, back, lo, hi) })
}

// run computes dst (n images of g.o planes g.oh × g.ow) from src (n images
// of g.c planes g.h × g.w) over the workers ws (back: the input gradient's
// run, whose padded planes are kept apart from the forward's), the
// transforms by kernel fk's CPU (its assembly where winogradCPU, else
// winoInputGo and winoOutputGo). bias may be nil. done, when not nil, gets
// each image's output while it is in cache, with its worker's index and
// the image's.
func (wc *winoConv) run(fk floatKernel, g winoGeom, ws []winoWorker, back bool, src []float32, in *inMap, dst, bias []float32, n int, done func(wk, i int, yi []float32)) {
	tiles := g.tiles()
	nb := winoBatch(tiles)
	inImg, outImg := g.c*g.h*g.w, g.o*g.oh*g.ow
	_, _ = src[n*inImg-1], dst[n*outImg-1]
	// With the transforms' assembly the input transform writes V as the
	// GEMM's packed B panels and the GEMMs run the microkernels on them
	// directly.
	packed := winogradCPU(fk) && wc.mul[0].pa.kern == fk
	split(len(ws), n, func(wk, lo, hi int) {
		cw := &ws[wk]
		planes := &cw.x
		if back {
			planes = &cw.back
		}
		p := planes.get(g, g.c*g.plane)
		for i0 := lo; i0 < hi; i0 += nb {
			k := min(nb, hi-i0)
			cols := k * tiles
			ldv, ldm := cw.batchBufs(16, g.c, g.o, cols)
			ps, cs := nr, cols // row-major V
			if packed {
				ps, cs = g.c*nr, nr
			}
			for j := 0; j < k; j++ {
				padIn(fk, p[g.pad*g.wp+g.pad:], src[(i0+j)*inImg:(i0+j+1)*inImg], g.c, g.h, g.w, g.h*g.w, g.plane, g.wp, in)
				cw.tr.input(fk, cw.v, ldv, ps, cs, j*tiles, p, g)
			}
			for x := range wc.mul {
				if packed {
					winoGemm(fk, &wc.mul[x].pa, cw.v[x*ldv:(x+1)*ldv], cols, cw.m[x*ldm:(x+1)*ldm], cols)
					continue
				}
				wc.mul[x].mulAWith(&cw.g, cw.m[x*ldm:], cols, false, cols, cw.v[x*ldv:], cols, 0)
			}
			for j := 0; j < k; j++ {
				yi := dst[(i0+j)*outImg : (i0+j+1)*outImg]
				cw.tr.output(fk, yi, cw.m[j*tiles:], ldm, cols, bias, wc.post8, g)
				if done != nil {
					done(wk, i0+j, yi)
				}
			}
		}
	})
}

// winoRunW sets dw (g.o × g.c × 3 × 3) to the weight gradient of the n
// images of x and dy over the workers ws: for each ξ, du[ξ] (o × c) =
// Σ_t W'_t[ξ] · V_t[ξ]ᵀ, sums over the tiles, then winoWeightGrad.
func winoRunW(fk floatKernel, g winoGeom, ws []winoWorker, x []float32, in *inMap, dy, dw []float32, n int) {
	tiles := g.tiles()
	nb := max(1, 256/tiles)
	inImg, outImg := g.c*g.h*g.w, g.o*g.oh*g.ow
	_, _, _ = x[n*inImg-1], dy[n*outImg-1], dw[g.o*g.c*9-1]
	split(len(ws), n, func(wk, lo, hi int) {
		cw := &ws[wk]
		p, dp := cw.x.get(g, g.c*g.plane), cw.dy.get(g, g.o*g.dplane)
		cw.du = grow(cw.du, 16*g.o*g.c)
		if lo == hi {
			clear(cw.du)
			return
		}
		for i0 := lo; i0 < hi; i0 += nb {
			k := min(nb, hi-i0)
			cols := k * tiles
			ldv, ldw, ldt := cw.rowBufs(16, g.c, g.o, cols)
			for j := 0; j < k; j++ {
				padIn(fk, p[g.pad*g.wp+g.pad:], x[(i0+j)*inImg:(i0+j+1)*inImg], g.c, g.h, g.w, g.h*g.w, g.plane, g.wp, in)
				padRows(fk, dp, dy[(i0+j)*outImg:(i0+j+1)*outImg], g.o, g.oh, g.ow, g.oh*g.ow, g.dplane, g.dwp)
				cw.tr.input(fk, cw.v, ldv, nr, ldt, j*tiles, p, g)
				cw.tr.dy(fk, cw.m, ldw, nr, ldt, j*tiles, dp, g)
			}
			cw.dots(fk, 16, cw.m, ldw, cw.v, ldv, ldt, cols, g.o, g.c, i0 != lo)
		}
	})
	// The workers' sums added and transformed back a block of output
	// channels per worker (each entry's sum in worker order, as before).
	du := ws[0].du[:16*g.o*g.c]
	split(len(ws), g.o, func(_, lo, hi int) {
		winoSumWorkers(ws, 16, g.o, g.c, lo, hi)
		winoWeightGrad(dw, du, g.o, g.c, lo, hi)
	})
}

// dots sets (adds, with acc) the weight gradient's sums cw.du[ξ] (o × c)
// to W[ξ]·V[ξ]ᵀ for each of the nx matrices of w (o rows) and v (c rows)
// of cols floats, rows ldt floats apart, matrices ldw and ldv floats
// apart: the dot products' assembly, else a GEMM.
func (cw *winoWorker) dots(fk floatKernel, nx int, w []float32, ldw int, v []float32, ldv, ldt, cols, o, c int, acc bool) {
	oc := o * c
	var beta float32
	if acc {
		beta = 1
	}
	for x := 0; x < nx; x++ {
		du := cw.du[x*oc : (x+1)*oc]
		if winoDotAsm(fk, w[x*ldw:], v[x*ldv:], ldt, cols, du, o, c, acc) {
			continue
		}
		cw.g.Sgemm(du, c, false, true, o, c, cols, 1, w[x*ldw:], ldt, v[x*ldv:], ldt, beta)
	}
}

// winoSumWorkers adds the other workers' weight-gradient sums (nx
// matrices of o × c) into ws[0]'s, output channels [lo, hi), in worker
// order.
func winoSumWorkers(ws []winoWorker, nx, o, c, lo, hi int) {
	oc := o * c
	du := ws[0].du[:nx*oc]
	// (by index: a copy of a worker would read its Gemm's buffers while
	// that worker packs into them)
	for j := 1; j < len(ws); j++ {
		for x := 0; x < nx; x++ {
			d, s := du[x*oc+lo*c:x*oc+hi*c], ws[j].du[x*oc+lo*c:x*oc+hi*c]
			for i, v := range s {
				d[i] += v
			}
		}
	}
}

// winoStride is the distance between the 16 matrices of V or M for n
// floats each: n rounded up to 4 KiB plus one cache line, so that the 16
// values of a tile, read or written together, fall in 16 different sets
// of the L1 cache (a multiple of 4 KiB put them all in one 12-way set: the
// input transform ran 2.5x slower).
func winoStride(n int) int { return (n+1023)/1024*1024 + 16 }

// winoGemm computes C (p.m × n, row stride ldc) = A·B for A packed for the
// AVX-512 kernel (one k block: k ≤ blockKC) and B already in packed
// 32-column panels of p.k rows each.
func winoGemm(fk floatKernel, p *PackedA, b []float32, n int, c []float32, ldc int) {
	m, k := p.m, p.k
	if k > blockKC {
		panic("kernels: winoGemm: a deeper A than one packed block")
	}
	mUp := (m + mr - 1) / mr * mr
	pa := p.data[:mUp*k]
	if winoGemmAsm(fk, pa, m, k, b, n, c, ldc) {
		return
	}
	winoGemmTiles(fk, pa, m, k, b, n, c, ldc)
}

// winoGemmTiles is winoGemm a microkernel call per tile (two per call
// where the kernel has an 8-row form).
func winoGemmTiles(fk floatKernel, pa []float32, m, k int, b []float32, n int, c []float32, ldc int) {
	var tile [mr * nr]float32
	for jr := 0; jr < n; jr += nr {
		nn := min(nr, n-jr)
		bp := b[jr*k : jr*k+k*nr]
		ir := 0
		for ir+2*mr <= m && kernelPair(fk, k, pa[ir*k:(ir+mr)*k], pa[(ir+mr)*k:(ir+2*mr)*k], bp, c[ir*ldc+jr:], ldc, 1, false, nn) {
			ir += 2 * mr
		}
		for ; ir < m; ir += mr {
			if ir+mr <= m {
				if nn == nr {
					kernelFull(fk, k, pa[ir*k:(ir+mr)*k], bp, c[ir*ldc+jr:], ldc, 1, false)
					continue
				}
				if kernelCols(fk, k, pa[ir*k:(ir+mr)*k], bp, c[ir*ldc+jr:], ldc, 1, false, nn) {
					continue
				}
			}
			kernelTile(fk, k, pa[ir*k:(ir+mr)*k], bp, &tile)
			storeTile(c[ir*ldc+jr:], ldc, 1, min(mr, m-ir), nn, &tile, 1, 0, true)
		}
	}
}
