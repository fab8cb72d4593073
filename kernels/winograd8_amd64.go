package kernels

// Winograd F(2×2, 3×3)'s transforms for AVX2 CPUs (winograd8_amd64.s):
// the AVX-512 ones take 16 tiles a vector under lane masks; AVX2 has no
// cheap masked store, so here Go walks each tile row eight tiles at a
// time and splits a step where it would cross one of V's 32-column
// panels; a step of fewer than eight tiles at a panel's or an image's end
// blends the lanes past them back from memory (elsewhere they fall on
// later tiles, written after). On a Zen 3 core the Go transforms cost
// more than the fewer multiplies saved (a 470 ms resnet20 step against
// 257 by direct GEMMs); these made it 228 ms, and with the padded copies
// and the weight gradient's dot products in AVX2 too, 186–194 ms.

// wino8InArgs is what winoIn8AVX2 and winoDy8AVX2 read (the field offsets
// are their constants).
type wino8InArgs struct {
	nc    int       // channels
	plane int       // bytes from one channel's padded plane to the next
	cs    int       // bytes from one channel's row of v to the next
	ldx   int       // bytes from one ξ's matrix to the next
	wp4   int       // bytes per padded row
	keep  *[8]int32 // nil: store eight tiles; else the lanes with the sign set keep their values
	hoff  int       // bytes from the step's first column to its last four tiles' (32; two tile rows down: rows2)
}

// wino8OutArgs is what winoOut8AVX2 reads.
type wino8OutArgs struct {
	no   int         // channels
	ycs  int         // bytes between output planes
	mcs  int         // bytes between the channels' rows of m
	ldx  int         // bytes from one ξ's matrix to the next
	ow4  int         // bytes per output row
	row1 int         // 1: the tiles' second output row is in the plane
	bias *float32    // per channel: the bias (chs 4), or bias, a, sh, hi (16: winoOut8AffAVX2, winoOut8ClampAVX2)
	keep *[16]int32  // nil: store 16 columns a row; else the columns with the sign set keep their values
	chs  int         // bytes from one channel's entry at bias to the next
	hoff int         // bytes from a row's first output to its last four tiles' (32; two tile rows down: rows2)
	sink *[8]float32 // where row1 = 2 sends the last four tiles' second row (below the plane)
}

//go:noescape
func winoIn8AVX2(v, p *float32, a *wino8InArgs)

//go:noescape
func winoDy8AVX2(v, p *float32, a *wino8InArgs)

//go:noescape
func winoOut8AVX2(y, m *float32, a *wino8OutArgs)

//go:noescape
func winoOut8AffAVX2(y, m *float32, a *wino8OutArgs)

//go:noescape
func winoOut8ClampAVX2(y, m *float32, a *wino8OutArgs)

// keep8[n] and keep16[n] mark (sign bit set) the lanes from n on: the
// ones a step of n tiles (n columns) leaves as they are. Computed once,
// never written after.
var keep8, keep16 = func() (k8 [9][8]int32, k16 [17][16]int32) {
	for n := range k8 {
		for l := n; l < 8; l++ {
			k8[n][l] = -1
		}
	}
	for n := range k16 {
		for l := n; l < 16; l++ {
			k16[n][l] = -1
		}
	}
	return k8, k16
}()

// winoTransform8 is winoTransforms.transform on AVX2: the input transform
// (the output gradient's when dy) of one image's padded planes p into v,
// tile t's value ξ of channel c at v[ξ·ldx + c·cs + (u>>5)·ps + (u&31)]
// for u = t0 + t.
func winoTransform8(dy bool, v []float32, ldx, ps, cs, t0 int, p []float32, g winoGeom) {
	// reach: the floats a step reads from a row; reach2: from each of its
	// two tile rows in rows2 mode
	nc, plane, wp, rows, reach, reach2 := g.c, g.plane, g.wp, 4, 18, 10
	if dy {
		nc, plane, wp, rows, reach, reach2 = g.o, g.dplane, g.dwp, 2, 16, 8
	}
	if nc == 0 {
		return
	}
	a := wino8InArgs{plane: 4 * plane, cs: 4 * cs, ldx: 4 * ldx, wp4: 4 * wp}
	// A block of channels at a time over all the tiles, so that the lines
	// of V a block's steps fill part by part stay in L1 until full.
	for c0 := 0; c0 < nc; c0 += wino8Channels {
		a.nc = min(wino8Channels, nc-c0)
		for ty := 0; ty < g.th; ty++ {
			if u := t0 + ty*g.tw; rows2(g) && ty+1 < g.th && u&31+8 <= 32 {
				// two tile rows of four, in one panel
				off, src := c0*cs+(u>>5)*ps+u&31, c0*plane+2*ty*wp
				_, _ = p[(a.nc-1)*plane+src+(rows+1)*wp+reach2-1], v[15*ldx+(a.nc-1)*cs+off+7]
				a.keep, a.hoff = nil, 8*wp
				if dy {
					winoDy8AVX2(&v[off], &p[src], &a)
				} else {
					winoIn8AVX2(&v[off], &p[src], &a)
				}
				ty++
				continue
			}
			a.hoff = 32
			for tx := 0; tx < g.tw; {
				u := t0 + ty*g.tw + tx
				n := min(8, g.tw-tx, 32-u&31)
				off, src := c0*cs+(u>>5)*ps+u&31, c0*plane+2*ty*wp+2*tx
				// every load and store of the call in bounds
				_, _ = p[(a.nc-1)*plane+src+(rows-1)*wp+reach-1], v[15*ldx+(a.nc-1)*cs+off+7]
				// A short step stores all eight lanes where the ones past it
				// fall on this image's later tiles of the same panel (written
				// after); else it blends them back.
				a.keep = nil
				if n < 8 && (u&31+8 > 32 || u+8 > t0+g.tiles()) {
					a.keep = &keep8[n]
				}
				if dy {
					winoDy8AVX2(&v[off], &p[src], &a)
				} else {
					winoIn8AVX2(&v[off], &p[src], &a)
				}
				tx += n
			}
		}
	}
}

// rows2 reports whether g's tile rows are four tiles (7×7 and 8×8 output
// planes), which the AVX2 transforms take two a vector (the second row's
// tiles in the upper four lanes: the loads, and the output's stores, of
// a vector's upper half two tile rows down) instead of half a vector
// each.
func rows2(g winoGeom) bool { return g.tw == 4 }

// keepRows2[n] marks (sign bit set) the columns from n on of each of an
// output transform's two 8-column halves in rows2 mode. Computed once,
// never written after.
var keepRows2 = func() (k [9][16]int32) {
	for n := range k {
		for l := n; l < 8; l++ {
			k[n][l], k[n][8+l] = -1, -1
		}
	}
	return k
}()

// wino8Channels is how many channels winoTransform8 and winoOutput8
// transform a pass over the tiles: all of them at once had each step
// write (read) a 32-byte piece of 16 lines of V (M) per channel, lines
// the next steps fill (read) on, evicted from L1 in between for 16 and
// more channels (resnet20's FP32 step 5% faster with 4, Zen 3).
const wino8Channels = 4

// winoOutput8 is winoTransforms.output on AVX2: one image's g.o planes y
// from m (channel o's tile t value ξ at m[ξ·ldx + o·cs + t]) plus the bias
// (one per channel). A step whose stores would pass the end of y (the
// last plane's last tile row, where a blend would read and write past the
// image: another worker's) writes its last channel into scratch first.
func winoOutput8(y, m []float32, ldx, cs int, bias []float32, post *wino8Post, g winoGeom) {
	// A block of channels at a time over all the tiles, as winoTransform8
	// (the lines of M a step reads part by part stay in L1).
	ohw := g.oh * g.ow
	out, chs := out8Plain, 1
	if post != nil {
		out, chs, bias = out8Aff, 4, post.chp
		if post.clamp {
			out = out8Clamp
		}
	}
	for o0 := 0; o0 < g.o; o0 += wino8Channels {
		no := min(wino8Channels, g.o-o0)
		winoOutput8Block(out, y[o0*ohw:], m[o0*cs:], ldx, cs, bias[chs*o0:chs*(o0+no)], chs, g, no)
	}
}

// The output transform kernels (out8).
const (
	out8Plain = iota // winoOut8AVX2
	out8Aff          // winoOut8AffAVX2
	out8Clamp        // winoOut8ClampAVX2
)

// out8 runs output transform kernel k (called directly, not through a
// func value, so that its operands stay on the stack).
func out8(k int, y, m *float32, a *wino8OutArgs) {
	switch k {
	case out8Aff:
		winoOut8AffAVX2(y, m, a)
	case out8Clamp:
		winoOut8ClampAVX2(y, m, a)
	default:
		winoOut8AVX2(y, m, a)
	}
}

// winoOutput8Block is winoOutput8 for the first no channels of y (which
// runs to the end of the image: only its last plane needs the scratch) by
// the kernel out (out8), chs floats of bias a channel.
func winoOutput8Block(out int, y, m []float32, ldx, cs int, bias []float32, chs int, g winoGeom, no int) {
	if no == 0 {
		return
	}
	ohw := g.oh * g.ow
	_, _ = y[no*ohw-1], bias[chs*no-1]
	var scratch [64]float32
	var sink [8]float32
	a := wino8OutArgs{ycs: 4 * ohw, mcs: 4 * cs, ldx: 4 * ldx, ow4: 4 * g.ow, chs: 4 * chs, sink: &sink}
	for ty := 0; ty < g.th; ty++ {
		if rows2(g) && ty+1 < g.th {
			winoOutRows2(out, y, m, &a, &scratch, bias, chs, g, no, ty)
			ty++
			continue
		}
		a.hoff = 32
		a.row1 = 0
		if 2*ty+1 < g.oh {
			a.row1 = 1
		}
		for tx := 0; tx < g.tw; tx += 8 {
			t, yo := ty*g.tw+tx, 2*ty*g.ow+2*tx
			cols := min(16, g.ow-2*tx)
			a.keep = nil
			if cols < 16 {
				a.keep = &keep16[cols]
			}
			_ = m[15*ldx+(no-1)*cs+t+7]
			end := (no-1)*ohw + yo + a.row1*g.ow + 16 // one past the last float the step's stores touch
			a.no, a.bias = no, &bias[0]
			if end <= len(y) {
				out8(out, &y[yo], &m[t], &a)
				continue
			}
			if no > 1 {
				a.no = no - 1
				out8(out, &y[yo], &m[t], &a)
			}
			last := a
			last.no, last.ow4, last.keep, last.bias = 1, 64, nil, &bias[chs*(no-1)]
			out8(out, &scratch[0], &m[(no-1)*cs+t], &last)
			base := (no-1)*ohw + yo
			copy(y[base:base+cols], scratch[:cols])
			if a.row1 == 1 {
				copy(y[base+g.ow:base+g.ow+cols], scratch[16:16+cols])
			}
		}
	}
}

// winoOutRows2 is winoOutput8Block's step over tile rows ty and ty+1 of
// four tiles each (rows2): output rows 2ty, 2ty+1 from the lower lanes,
// 2ty+2, 2ty+3 from the upper ones (the last below an odd plane goes to
// a.sink: row1 = 2). As there, a step whose stores would pass the end of
// y writes its last channel into scratch first.
func winoOutRows2(out int, y, m []float32, a *wino8OutArgs, scratch *[64]float32, bias []float32, chs int, g winoGeom, no, ty int) {
	ohw, ow := g.oh*g.ow, g.ow
	t, yo := 4*ty, 2*ty*ow
	below := 2 // output rows stored below the first, upper half
	a.row1 = 1
	if 2*ty+3 >= g.oh {
		a.row1, below = 2, 1
	}
	a.keep = nil
	if ow < 8 {
		a.keep = &keepRows2[ow]
	}
	a.hoff = 8 * ow
	_ = m[15*a.ldx/4+(no-1)*a.mcs/4+t+7]
	end := (no-1)*ohw + yo + (1+below)*ow + 8 // one past the last float the step's stores touch
	a.no, a.bias = no, &bias[0]
	if end <= len(y) {
		out8(out, &y[yo], &m[t], a)
		return
	}
	if no > 1 {
		a.no = no - 1
		out8(out, &y[yo], &m[t], a)
	}
	last := *a
	last.no, last.ow4, last.hoff, last.keep, last.bias = 1, 64, 128, nil, &bias[chs*(no-1)]
	out8(out, &scratch[0], &m[(no-1)*a.mcs/4+t], &last)
	base := (no-1)*ohw + yo
	for r := 0; r < 2+below; r++ {
		copy(y[base+r*ow:base+(r+1)*ow], scratch[16*r:16*r+ow])
	}
}

//go:noescape
func padRows8AVX2(dst, src *float32, a *padArgs, tail *[8]int32)

//go:noescape
func padRowsMap8AVX2(dst, src *float32, a *padMapArgs, tail *[8]int32)

//go:noescape
func padRowsMapFQ8AVX2(dst, src *float32, a *padMapArgs, tail *[8]int32)

// lanes8[n] marks (sign bit set) the lanes below n. Computed once, never
// written after.
var lanes8 = func() (k [9][8]int32) {
	for n := range k {
		for l := 0; l < n; l++ {
			k[n][l] = -1
		}
	}
	return k
}()

// padRows8 is padRows (padRowsMap where m is not nil) by the AVX2 loops:
// a row's last move reads and writes eight floats of dst, up to 7 past the
// row (their values blended back: the border as it was, the next row's
// written after; the planes' slack takes the last row's), so it runs only
// where those stay in dst; false (nothing done) otherwise. nc, rows and w
// are positive; dst is the caller's own (no other goroutine writes it).
func padRows8(dst, src []float32, nc, rows, w, sp, dp, dr int, m *inMap) bool {
	full := (w - 1) / 8
	if (nc-1)*dp+(rows-1)*dr+8*(full+1) > len(dst) || (nc-1)*sp+rows*w > len(src) {
		return false
	}
	tail := &lanes8[w-8*full]
	a := padArgs{nc: nc, rows: rows, w: w, srcPlane: 4 * sp, dstPlane: 4 * dp, dstRow: 4 * dr, srcRow: 4 * w}
	if m == nil {
		padRows8AVX2(&dst[0], &src[0], &a, tail)
		return true
	}
	_, _ = m.a[nc-1], m.b[nc-1]
	ma := padMapArgs{padArgs: a, a: &m.a[0], b: &m.b[0], hi: m.hi, fq: m.fq}
	if m.fq != nil {
		padRowsMapFQ8AVX2(&dst[0], &src[0], &ma, tail)
		return true
	}
	padRowsMap8AVX2(&dst[0], &src[0], &ma, tail)
	return true
}

//go:noescape
func winoDot8AVX2(w, v *float32, ldt, t int, du *float32, ldu, ob, cb, acc int, tail *[8]int32)

// winoDot8 is winoDotAsm on AVX2 (o even, c a multiple of 4): the weight
// gradient's sums of products along rows, which as a GEMM needed both
// operands transposed and packed.
func winoDot8(w, v []float32, ldt, t int, du []float32, o, c int, acc bool) bool {
	if o%2 != 0 || c%4 != 0 || o == 0 || c == 0 || t <= 0 {
		return false
	}
	_, _, _ = w[(o-1)*ldt+t-1], v[(c-1)*ldt+t-1], du[o*c-1]
	ac := 0
	if acc {
		ac = 1
	}
	winoDot8AVX2(&w[0], &v[0], ldt, t, &du[0], c, o/2, c/4, ac, &lanes8[t%8])
	return true
}

//go:noescape
func winoGemm8AVX2(kc int, a, b, c *float32, ldc, mp, np int)

// winoGemm8 is winoGemmAsm on AVX2 (rows a multiple of 4): the full
// 32-column panels of B in one call, the last partial one by masked
// stores (winoGemmCols8AVX2).
func winoGemm8(pa []float32, m, k int, b []float32, n int, c []float32, ldc int) bool {
	if m%mr != 0 || m == 0 || n <= 0 || k <= 0 {
		return false
	}
	full := n / nr
	if full > 0 {
		_, _, _ = pa[m*k-1], b[full*nr*k-1], c[(m-1)*ldc+full*nr-1]
		winoGemm8AVX2(k, &pa[0], &b[0], &c[0], ldc, m/mr, full)
	}
	if jr := full * nr; jr < n {
		cols := n - jr
		_, _, _ = pa[m*k-1], b[jr*k+nr*k-1], c[(m-1)*ldc+jr+cols-1]
		mode := 0 // one vector a row
		switch {
		case cols > 16:
			mode = 2
		case cols > 8:
			mode = 1
		}
		winoGemmCols8AVX2(k, &pa[0], &b[jr*k], &c[jr], ldc, m/mr, &lanes32[cols], mode)
	}
	return true
}

//go:noescape
func winoGemmCols8AVX2(kc int, a, b, c *float32, ldc, mp int, masks *[32]int32, mode int)

// lanes32[n] marks (sign bit set) the first n of 32 lanes: the columns
// winoGemmCols8AVX2 stores. Computed once, never written after.
var lanes32 = func() (k [33][32]int32) {
	for n := range k {
		for l := 0; l < n; l++ {
			k[n][l] = -1
		}
	}
	return k
}()
