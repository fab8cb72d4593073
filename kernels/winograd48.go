package kernels

// Winograd F(4×4, 3×3) on AVX2 CPUs for the forward, the input gradient
// and the weight gradient: 36 products per 4×4 output tile and channel
// pair instead of F(2×2)'s 64. The AVX-512 version
// (winograd4.go) puts 16 tiles in a vector by two-table permutes, quads
// and gathers; here a vector holds 8 tiles from four "units", each two
// horizontally adjacent tiles of one tile row (columns 8u…8u+11 of its six
// padded rows). A unit's row is two 8-float loads (columns 0–7 and 4–11),
// and four units' rows transpose into the tiles' six columns by unpacks
// alone: lane l is unit l mod 4's tile l / 4. The output transform undoes
// the same unpacks, which leave each unit's output row (its two tiles'
// 4 + 4 columns) in one vector. Units run in order over the images of a
// batch, tile rows, and pairs of tiles, four to a group of eight V
// columns: a 28×28 plane's tile rows (7 tiles: 4 units, the last half
// empty), a 14×14 plane's (4 tiles: 2 units) and a 7×7 plane's (2 tiles:
// 1 unit, two images a group) all fill whole vectors.
//
// The transforms are bt6 (input), a6 (output gradient) and at6 (output)
// of winograd4.go applied the same way and in the same order as
// wino48InputGo and wino48OutputGo, so the assembly matches them bit for
// bit (TestWinograd48SameBits); the weights are wino4Weights' (G g Gᵀ),
// written by wino4WeightsPackedAVX2 straight into the AVX2 GEMM's panels.

// wino48Geom is an F(4×4, 3×3) convolution's geometry for the AVX2
// transforms: c input planes of h×w, padding pad, o output planes of
// oh×ow in th×tw tiles, ux units a tile row, padded planes of hp rows of
// wp floats (plane floats with the slack a row's last unit reads past it).
type wino48Geom struct {
	c, h, w, pad int
	o, oh, ow    int
	th, tw, ux   int
	hp, wp       int
	plane        int
	// the weight gradient's output-gradient planes: dY from the first row
	// and column on, zeros to the units' ends (dhp rows of dwp floats)
	dhp, dwp, dplane int
}

func newWino48Geom(c, h, w, pad, o int) wino48Geom {
	oh, ow := h+2*pad-2, w+2*pad-2
	th, tw := (oh+3)/4, (ow+3)/4
	g := wino48Geom{c: c, h: h, w: w, pad: pad, o: o, oh: oh, ow: ow, th: th, tw: tw, ux: (tw + 1) / 2}
	g.hp, g.wp = 4*th+2, 4*tw+2
	// a row's last unit reads columns up to 8·ux + 3 (4·tw + 7 for odd
	// tw): up to 6 floats past the row, the plane's last row into slack
	g.plane = g.hp*g.wp + 8
	g.dhp, g.dwp = 4*th, 8*g.ux
	g.dplane = g.dhp * g.dwp
	return g
}

// units is how many units an image has.
func (g wino48Geom) units() int { return g.th * g.ux }

// batch is how many images one set of 36 GEMMs covers: about
// wino48Cols columns.
func (g wino48Geom) batch() int {
	return max(1, wino48Cols/(2*g.units()))
}

// wino48Cols is the columns a set of GEMMs aims at: V and M of 36
// matrices for 16–64 channels stay in L2 (Zen 3: 512 KB).
const wino48Cols = 128

// wino48Use reports whether the AVX2 F(4×4, 3×3) runs a convolution of
// F(2×2) geometry g: on AVX2 CPUs, where its GEMMs' columns (8 a group of
// four units) are at most 80% of F(2×2)'s (28×28 planes 64%, 14×14 73%,
// 7×7 56%).
func wino48Use(fk floatKernel, g winoGeom) bool {
	if fk != fkAVX2 || !winogradCPU(fk) {
		return false
	}
	g4 := newWino48Geom(g.c, g.h, g.w, g.pad, g.o)
	return 36*2*g4.units()*10 <= 16*g.tiles()*8
}

// wino48Unit is where a unit's outputs are: its first output's byte
// offset in the batch's outputs, and how many of its output columns (0:
// none, an empty lane group) and rows lie in the plane.
type wino48Unit struct {
	out, cols, rows int
}

// unit returns unit u (of the batch's k images, in order) of g.
func (g wino48Geom) unit(u, k int) wino48Unit {
	if u >= k*g.units() {
		return wino48Unit{}
	}
	j, r := u/g.units(), u%g.units()
	ty, ux := r/g.ux, r%g.ux
	return wino48Unit{
		out:  4 * (j*g.o*g.oh*g.ow + 4*ty*g.ow + 8*ux),
		cols: min(8, g.ow-8*ux),
		rows: min(4, g.oh-4*ty),
	}
}

// wino48Channels is how many channels the transforms take a call: all of
// them at once would have each call's stores to (loads from) V and M touch
// 36 lines per channel, evicted from L1 before the next group fills
// (reads) their other halves (as wino8Channels).
const wino48Channels = 4

// wino48InArgs is what wino48InAVX2 reads (the field offsets are its
// constants).
type wino48InArgs struct {
	nc      int      // channels
	plane   int      // bytes from one channel's padded plane to the next
	cs      int      // bytes from one channel's columns in v to the next
	ldx     int      // bytes from one ξ's matrix to the next
	wp4     int      // bytes per padded row
	scratch *float32 // 36 × 8 floats
	src     [4]int   // the units' first floats, bytes from p
}

// wino48OutArgs is what wino48OutAVX2 reads.
type wino48OutArgs struct {
	no      int      // channels
	ycs     int      // bytes between output planes
	mcs     int      // bytes between the channels' rows of m
	ldx     int      // bytes from one ξ's matrix to the next
	ow4     int      // bytes per output row
	scratch *float32 // 24 × 8 floats
	bias    *float32 // per channel: the bias (chs 4), or bias, a, sh, hi (chs 16)
	dst     [4]int   // the units' first outputs, bytes from y
	cols    [4]int   // the units' output columns in the plane (0: none)
	rows    [4]int   // the units' output rows in the plane
	chs     int      // bytes from one channel's entry at bias to the next
	post    int      // an evaluation batch norm: 0 none, 1 y·a + sh, 2 then the clamp to [0, hi]
}

// wino48InputGo is wino48InAVX2 in Go: for each channel, the eight lanes'
// 6×6 tiles (lane l: unit l mod 4's tile l / 4) transformed rows first
// (bt6 of each padded row's six columns), then columns, into v[ξ·ldx + l];
// with dy (wino48DyAVX2) the lanes' 4×4 tiles by a6.
func wino48InputGo(v, p []float32, a *wino48InArgs, dy bool) {
	n, tf := 6, bt6
	if dy {
		n, tf = 4, a6
	}
	for c := 0; c < a.nc; c++ {
		var h [6][6][8]float32 // h[row][column][lane]
		for r := 0; r < n; r++ {
			for l := 0; l < 8; l++ {
				var d [6]float32
				copy(d[:n], p[(c*a.plane+a.src[l%4]+r*a.wp4)/4+4*(l/4):])
				t := tf(&d)
				for j := range t {
					h[r][j][l] = t[j]
				}
			}
		}
		for j := 0; j < 6; j++ {
			for l := 0; l < 8; l++ {
				d := [6]float32{h[0][j][l], h[1][j][l], h[2][j][l], h[3][j][l], h[4][j][l], h[5][j][l]}
				t := tf(&d)
				for i := range t {
					v[((6*i+j)*a.ldx+c*a.cs)/4+l] = t[i]
				}
			}
		}
	}
}

// wino48OutputGo is wino48OutAVX2 in Go: for each channel, each lane's
// 6×6 products transformed columns first (at6, the bias added to m[1][1]
// before), then rows, through the batch norm (postValue) into the units'
// outputs that lie in the plane.
func wino48OutputGo(y, m, bias []float32, a *wino48OutArgs) {
	post := postNone
	switch a.post {
	case 1:
		post = postAffine
	case 2:
		post = postClamp
	}
	for o := 0; o < a.no; o++ {
		for l := 0; l < 8; l++ {
			k := l % 4
			var z [4][6]float32
			for s := 0; s < 6; s++ {
				var col [6]float32
				for r := 0; r < 6; r++ {
					col[r] = m[((6*r+s)*a.ldx+o*a.mcs)/4+l]
				}
				if s == 1 {
					col[1] += bias[o*a.chs/4]
				}
				t := at6(&col)
				for i := range t {
					z[i][s] = t[i]
				}
			}
			for i := 0; i < a.rows[k]; i++ {
				row := at6(&z[i])
				for j, val := range row {
					if col := 4*(l/4) + j; col < a.cols[k] {
						if post != postNone {
							val = postValue(val, bias[o*4:o*4+4], 0, post)
						}
						y[(o*a.ycs+a.dst[k]+i*a.ow4)/4+col] = val
					}
				}
			}
		}
	}
}

// wino48Conv holds a convolution's F(4×4, 3×3) weights for the AVX2
// transforms: 36 matrices packed for the AVX2 GEMM.
type wino48Conv struct {
	winoPacked
}

// setWeights transforms w (o × c × 3 × 3) into the 36 matrices, packed
// (by the assembly straight into the panels where it runs, else by
// wino4Weights and PackA).
func (wc *wino48Conv) setWeights(w []float32, o, c int, back bool, nw int) {
	if wc.setPacked(hostFloatKernel, w, o, c, back, nw, 36, func(dst []float32, ldu, lo, hi int) bool {
		return wino4WeightsPackedAsm(hostFloatKernel, dst, ldu, w, o, c, back, lo, hi)
	}) {
		return
	}
	wc.set(w, o, c, back, nw, 36, func(u []float32, ldu, lo, hi int) { wino4Weights(u, ldu, w, o, c, back, lo, hi) })
}

// wino48Scratch is a worker's scratch for the AVX2 F(4×4) transforms.
type wino48Scratch struct {
	fwd, back, dy winoPlanes[wino48Geom]
	ia            wino48InArgs
	oa            wino48OutArgs
	scratch       []float32
}

// run computes dst (n images of g.o planes g.oh × g.ow) from src (n images
// of g.c planes g.h × g.w) as winoConv.run does, by F(4×4, 3×3) with the
// AVX2 transforms (goT: their Go twins, for tests). bias may be nil; post,
// when not nil, is an evaluation batch norm the output transform applies
// (post.chp's bias, a, sh and hi per channel: then bias is not read).
func (wc *wino48Conv) run(fk floatKernel, g wino48Geom, ws []winoWorker, back, goT bool, src []float32, in *inMap, dst, bias []float32, post *wino8Post, n int, done func(wk, i int, yi []float32)) {
	if !winogradCPU(fk) {
		panic("kernels: wino48Conv.run: V as packed panels for a GEMM without them")
	}
	nb := g.batch()
	inImg, outImg := g.c*g.h*g.w, g.o*g.oh*g.ow
	_, _ = src[n*inImg-1], dst[n*outImg-1]
	split(len(ws), n, func(wk, lo, hi int) {
		cw := &ws[wk]
		s := &cw.w48
		pl := &s.fwd
		if back {
			pl = &s.back
		}
		p := pl.get(g, nb*g.c*g.plane)
		s.scratch = grow(s.scratch, 36*8)
		b, chs, mode := cw.tr.biasOrZero(bias, g.o), 1, 0
		if post != nil {
			b, chs, mode = post.chp, 4, 1
			if post.clamp {
				mode = 2
			}
		}
		for i0 := lo; i0 < hi; i0 += nb {
			k := min(nb, hi-i0)
			groups := (k*g.units() + 3) / 4
			cols := 8 * groups
			ldv, ldm := cw.batchBufs(36, g.c, g.o, cols)
			padded := 0 // images of the batch padded so far
			for gi := 0; gi < groups; gi++ {
				// the images the group's units read, padded first
				for last := min(k, (4*gi+3)/g.units()+1); padded < last; padded++ {
					im := i0 + padded
					padIn(fk, p[padded*g.c*g.plane+g.pad*g.wp+g.pad:], src[im*inImg:(im+1)*inImg], g.c, g.h, g.w, g.h*g.w, g.plane, g.wp, in)
				}
				s.transform(goT, false, cw.v, ldv, g.c*nr, nr, gi, k, p, g)
			}
			for x := range wc.mul {
				winoGemm(fk, &wc.mul[x].pa, cw.v[x*ldv:(x+1)*ldv], cols, cw.m[x*ldm:(x+1)*ldm], cols)
			}
			out := dst[i0*outImg : (i0+k)*outImg]
			for gi := 0; gi < groups; gi++ {
				s.output(goT, out, cw.m, ldm, cols, gi, k, b, chs, mode, g)
			}
			if done != nil {
				for j := 0; j < k; j++ {
					done(wk, i0+j, dst[(i0+j)*outImg:(i0+j+1)*outImg])
				}
			}
		}
	})
}

// transform transforms group gi of a batch of k images (padded planes
// p) into v, all channels, wino48Channels at a time (the lines of V a
// block's steps fill part by part stay in L1): group column t of channel
// ch at v[ξ·ldv + (t>>5)·ps + ch·cs + t&31] (the GEMM's packed B panels:
// ps = g.c·nr, cs = nr; the weight gradient's rows: ps = nr, cs = the row
// stride). dy transforms the output gradient's planes instead (A dY Aᵀ of
// each 4×4 tile).
func (s *wino48Scratch) transform(goT, dy bool, v []float32, ldv, ps, cs, gi, k int, p []float32, g wino48Geom) {
	nc, plane, wp, rows := g.c, g.plane, g.wp, 6
	if dy {
		nc, plane, wp, rows = g.o, g.dplane, g.dwp, 4
	}
	a := &s.ia
	*a = wino48InArgs{plane: 4 * plane, cs: 4 * cs, ldx: 4 * ldv, wp4: 4 * wp, scratch: &s.scratch[0]}
	hi := 0 // one past the last float a unit's loads read, in the first channel's planes
	for q := range a.src {
		uq := 4*gi + q
		if uq >= k*g.units() {
			uq = 4 * gi // an empty lane group: any unit's values, in columns no output reads
		}
		j, r := uq/g.units(), uq%g.units()
		ty, ux := r/g.ux, r%g.ux
		a.src[q] = 4 * (j*nc*plane + 4*ty*wp + 8*ux)
		reach := 12 // columns 0–11 of each of six padded rows
		if dy {
			reach = 8
		}
		hi = max(hi, a.src[q]/4+(rows-1)*wp+reach)
	}
	col := 8 * gi
	off := (col>>5)*ps + col&31
	_, _ = p[(nc-1)*plane+hi-1], v[35*ldv+(nc-1)*cs+off+7]
	for c0 := 0; c0 < nc; c0 += wino48Channels {
		a.nc = min(wino48Channels, nc-c0)
		switch {
		case goT:
			wino48InputGo(v[off+c0*cs:], p[c0*plane:], a, dy)
		case dy:
			wino48DyAsm(&v[off+c0*cs], &p[c0*plane], a)
		default:
			wino48InAsm(&v[off+c0*cs], &p[c0*plane], a)
		}
	}
}

// output writes group gi's outputs of a batch of k images into y (the
// batch's outputs) from m (channel o's column t at m[ξ·ldm + o·cols + t])
// plus the bias (b, chs floats a channel: the bias, or bias, a, sh, hi of
// the batch norm post applies: wino48OutArgs.post), wino48Channels
// channels at a time.
func (s *wino48Scratch) output(goT bool, y, m []float32, ldm, cols, gi, k int, b []float32, chs, post int, g wino48Geom) {
	a := &s.oa
	ohw := g.oh * g.ow
	*a = wino48OutArgs{ycs: 4 * ohw, mcs: 4 * cols, ldx: 4 * ldm, ow4: 4 * g.ow, scratch: &s.scratch[0], chs: 4 * chs, post: post}
	hi := 0 // one past the last output the units write, in the first channel's plane
	for q := range a.dst {
		u := g.unit(4*gi+q, k)
		a.dst[q], a.cols[q], a.rows[q] = u.out, u.cols, u.rows
		if u.cols > 0 {
			hi = max(hi, u.out/4+(u.rows-1)*g.ow+u.cols)
		}
	}
	col := 8 * gi
	_, _, _ = m[35*ldm+(g.o-1)*cols+col+7], y[(g.o-1)*ohw+hi-1], b[g.o*chs-1]
	for o0 := 0; o0 < g.o; o0 += wino48Channels {
		a.no, a.bias = min(wino48Channels, g.o-o0), &b[o0*chs]
		if goT {
			wino48OutputGo(y[o0*ohw:], m[o0*cols+col:], b[o0*chs:], a)
			continue
		}
		wino48OutAsm(&y[o0*ohw], &m[o0*cols+col], a)
	}
}

// wino48RunW sets dw (g.o × g.c × 3 × 3) to the weight gradient of the n
// images of x and dy by F(4×4, 3×3) with the AVX2 transforms (goT: their
// Go twins) over the workers ws, as wino4RunW: for each of the 36 ξ,
// du[ξ] (o × c) = Σ_t (A dY_t Aᵀ)[ξ] · (Bᵀ x_t B)[ξ] over the tiles (dot
// products along rows of a batch's group columns), then dW = Gᵀ du G. An
// empty unit's columns (a batch's last group) are zero in the output
// gradient's rows; a unit's second tile past the plane's right edge is
// zero there too (dY's planes are zero past it).
func wino48RunW(fk floatKernel, g wino48Geom, ws []winoWorker, goT bool, x []float32, in *inMap, dy, dw []float32, n int) {
	nb := max(1, wino48WCols/(2*g.units()))
	inImg, outImg := g.c*g.h*g.w, g.o*g.oh*g.ow
	oc := g.o * g.c
	_, _, _ = x[n*inImg-1], dy[n*outImg-1], dw[oc*9-1]
	split(len(ws), n, func(wk, lo, hi int) {
		cw := &ws[wk]
		s := &cw.w48
		px, pd := s.fwd.get(g, nb*g.c*g.plane), s.dy.get(g, nb*g.o*g.dplane)
		s.scratch = grow(s.scratch, 36*8)
		cw.du = grow(cw.du, 36*oc)
		if lo == hi {
			clear(cw.du[:36*oc])
			return
		}
		for i0 := lo; i0 < hi; i0 += nb {
			k := min(nb, hi-i0)
			groups := (k*g.units() + 3) / 4
			cols := 8 * groups
			ldv, ldw, ldt := cw.rowBufs(36, g.c, g.o, cols)
			for j := 0; j < k; j++ {
				im := i0 + j
				padIn(fk, px[j*g.c*g.plane+g.pad*g.wp+g.pad:], x[im*inImg:(im+1)*inImg], g.c, g.h, g.w, g.h*g.w, g.plane, g.wp, in)
				padRows(fk, pd[j*g.o*g.dplane:], dy[im*outImg:(im+1)*outImg], g.o, g.oh, g.ow, g.oh*g.ow, g.dplane, g.dwp)
			}
			for gi := 0; gi < groups; gi++ {
				s.transform(goT, false, cw.v, ldv, nr, ldt, gi, k, px, g)
				s.transform(goT, true, cw.m, ldw, nr, ldt, gi, k, pd, g)
			}
			// the last group's empty units: zero dY columns
			for q := k*g.units() - 4*(groups-1); q < 4; q++ {
				for x := 0; x < 36; x++ {
					for ch := 0; ch < g.o; ch++ {
						row := cw.m[x*ldw+ch*ldt+8*(groups-1):]
						row[q], row[q+4] = 0, 0
					}
				}
			}
			cw.dots(fk, 36, cw.m, ldw, cw.v, ldv, ldt, cols, g.o, g.c, i0 != lo)
		}
	})
	wino4GradBack(ws, g.o, g.c, dw)
}

// wino48WCols is the columns a weight-gradient batch aims at: rows of 256
// floats for the dot products (F(2×2)'s batches).
const wino48WCols = 256
