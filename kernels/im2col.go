package kernels

// ConvParams are the geometry of a 2-D convolution, (height, width) each;
// zero Stride or Dilation entries mean 1. Groups splits the input and output
// channels into that many groups, each convolved with its own filters, as
// PyTorch's groups argument; 0 or 1 means a dense convolution. NoInputGrad skips the gradient
// with respect to x (the first layer, whose input is data): gorgonia compiles
// every node of a graph, so an unused gradient would still be computed.
// Workers is how many goroutines split the images of a batch: 0 means up to
// 2 (bounded by GOMAXPROCS), 1 runs in the calling goroutine only.
type ConvParams struct {
	Stride, Pad, Dilation [2]int
	Groups                int
	NoInputGrad           bool
	Workers               int
	// Workspace, when not nil, is the scratch the convolution shares with
	// the graph's other convolutions (see Workspace).
	Workspace *Workspace
}

func (p ConvParams) norm() ConvParams {
	for i := 0; i < 2; i++ {
		if p.Stride[i] == 0 {
			p.Stride[i] = 1
		}
		if p.Dilation[i] == 0 {
			p.Dilation[i] = 1
		}
	}
	if p.Groups == 0 {
		p.Groups = 1
	}
	return p
}

// geom is one image's convolution geometry.
type geom struct {
	c, h, w int // input channels and size
	kh, kw  int
	sh, sw  int
	ph, pw  int
	dh, dw  int
	oh, ow  int
}

// outSize is PyTorch's floor((in + 2·pad − dil·(k−1) − 1)/stride) + 1.
func outSize(in, k, s, p, d int) int {
	return (in+2*p-d*(k-1)-1)/s + 1
}

func (g geom) rows() int { return g.c * g.kh * g.kw }

// identity reports whether im2col is the identity (a 1×1 kernel, stride 1,
// no padding): the unfolded image is the image.
func (g geom) identity() bool {
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0
}
func (g geom) cols() int { return g.oh * g.ow }

// im2col writes one image x (c×h×w) as the (c·kh·kw)×(oh·ow) matrix col whose
// row (ci, i, j) holds the input pixel under kernel tap (i, j) for every
// output position (0 in the padding).
func im2col[T float](col, x []T, g geom) {
	if g.shifted() {
		im2colShifted(col, x, g)
		return
	}
	if c32, ok := any(col).([]float32); ok && g.sw == 2 && useStride2Rows {
		im2colStride2(c32, any(x).([]float32), g)
		return
	}
	im2colRows(col, x, g)
}

// shifted reports whether every row of col is the input plane shifted by a
// constant offset, apart from the padding columns: stride 1 and an output
// as wide as the input ("same" padding, as every 3×3 pad-1 convolution of
// the model zoo), so that output rows and input rows have the same pitch.
// im2col and col2im then move each tap as one block instead of oh short
// rows (7 to 32 floats in the zoo, where the per-row calls dominated).
func (g geom) shifted() bool { return g.sh == 1 && g.sw == 1 && g.ow == g.w }

// tapBlock returns, for a shifted geometry's tap (i, j), the output rows
// [y0, y1) whose input row is in the image, the offset d from an output
// index to its input index (in = out + d), the valid output columns
// [lo, hi), and the part [a, b) of col's row (out indices) that can be moved
// as one block: [y0·ow, y1·ow) less the ends whose input index falls off
// the plane (those are padding columns); a = b when there is none.
func (g geom) tapBlock(i, j int) (y0, y1, d, lo, hi, a, b int) {
	dy := i*g.dh - g.ph // input row = output row + dy
	off := j*g.dw - g.pw
	y0, y1 = max(0, -dy), min(g.oh, g.h-dy)
	if y1 < y0 {
		y0, y1 = 0, 0 // no output row sees the image
	}
	lo, hi = validRange(g.ow, 1, off, g.w)
	d = dy*g.w + off
	a, b = max(y0*g.ow, -d), min(y1*g.ow, g.h*g.w-d)
	if b < a {
		a, b = 0, 0 // nothing to move (a tap off the image)
	}
	return y0, y1, d, lo, hi, a, b
}

// im2colShifted is im2col for shifted geometries: one block copy per tap,
// then the padding columns of the valid rows (which the block filled with
// the neighbouring rows' pixels) and the rows off the image set to 0.
func im2colShifted[T float](col, x []T, g geom) {
	n := g.cols()
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				dst := col[r*n : (r+1)*n]
				r++
				y0, y1, d, lo, hi, a, b := g.tapBlock(i, j)
				clear(dst[:y0*g.ow])
				clear(dst[y1*g.ow:])
				if a < b {
					copy(dst[a:b], plane[a+d:b+d])
				}
				for oy := y0; oy < y1; oy++ {
					row := dst[oy*g.ow : (oy+1)*g.ow]
					for ox := 0; ox < lo; ox++ {
						row[ox] = 0
					}
					for ox := hi; ox < g.ow; ox++ {
						row[ox] = 0
					}
				}
			}
		}
	}
}

// im2colRows is im2col row by row, for any geometry.
func im2colRows[T float](col, x []T, g geom) {
	copyRow, _ := rowOps[T]()
	n := g.cols()
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				dst := col[r*n : (r+1)*n]
				r++
				lo, hi := validRange(g.ow, g.sw, j*g.dw-g.pw, g.w)
				// A tap whose rows all lie inside the plane, unit column
				// stride: one block copy (rows sh·w apart).
				if iy0, iyN := i*g.dh-g.ph, (g.oh-1)*g.sh-g.ph+i*g.dh; g.sw == 1 && lo == 0 && hi == g.ow && iy0 >= 0 && iyN < g.h {
					if d32, ok := any(dst).([]float32); ok {
						if copyRows32(d32, any(plane).([]float32)[iy0*g.w+j*g.dw-g.pw:], g.oh, g.ow, g.sh*g.w) {
							continue
						}
					}
				}
				for oy := 0; oy < g.oh; oy++ {
					row := dst[oy*g.ow : (oy+1)*g.ow]
					iy := oy*g.sh - g.ph + i*g.dh
					if iy < 0 || iy >= g.h {
						clear(row)
						continue
					}
					src := plane[iy*g.w : (iy+1)*g.w]
					clear(row[:lo])
					clear(row[hi:])
					ix := lo*g.sw + j*g.dw - g.pw
					if g.sw == 1 {
						copyRow(row[lo:hi], src[ix:ix+hi-lo])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						row[ox] = src[ix]
						ix += g.sw
					}
				}
			}
		}
	}
}

// col2im adds the columns of col back into the image dx (c×h×w), the adjoint
// of im2col; dx is not cleared first. It may overwrite col's entries at
// padding positions (which contribute nothing to dx) with 0.
func col2im[T float](dx, col []T, g geom) {
	if g.shifted() {
		col2imShifted(dx, col, g)
		return
	}
	if d32, ok := any(dx).([]float32); ok && g.sw == 2 && useStride2Rows {
		col2imStride2(d32, any(col).([]float32), g)
		return
	}
	col2imRows(dx, col, g)
}

// col2imShifted is col2im for shifted geometries: the padding columns of a
// tap's valid rows are set to 0 in col, then the rows are added as one
// block (the zeros land on neighbouring rows' pixels and change nothing).
// Each pixel receives the same additions in the same order as col2imRows.
func col2imShifted[T float](dx, col []T, g geom) {
	_, addRow := rowOps[T]()
	n := g.cols()
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := dx[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				src := col[r*n : (r+1)*n]
				r++
				y0, y1, d, lo, hi, a, b := g.tapBlock(i, j)
				for oy := y0; oy < y1; oy++ {
					row := src[oy*g.ow : (oy+1)*g.ow]
					for ox := 0; ox < lo; ox++ {
						row[ox] = 0
					}
					for ox := hi; ox < g.ow; ox++ {
						row[ox] = 0
					}
				}
				if a < b {
					addRow(plane[a+d:b+d], src[a:b])
				}
			}
		}
	}
}

// col2imRows is col2im row by row, for any geometry.
func col2imRows[T float](dx, col []T, g geom) {
	_, addRow := rowOps[T]()
	n := g.cols()
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := dx[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				src := col[r*n : (r+1)*n]
				r++
				lo, hi := validRange(g.ow, g.sw, j*g.dw-g.pw, g.w)
				// im2colRows' block copy in reverse: one block add.
				if iy0, iyN := i*g.dh-g.ph, (g.oh-1)*g.sh-g.ph+i*g.dh; g.sw == 1 && lo == 0 && hi == g.ow && iy0 >= 0 && iyN < g.h {
					if s32, ok := any(src).([]float32); ok {
						if addRows32(any(plane).([]float32)[iy0*g.w+j*g.dw-g.pw:], s32, g.oh, g.ow, g.sh*g.w) {
							continue
						}
					}
				}
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + i*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					row := src[oy*g.ow : (oy+1)*g.ow]
					dst := plane[iy*g.w : (iy+1)*g.w]
					ix := lo*g.sw + j*g.dw - g.pw
					if g.sw == 1 {
						addRow(dst[ix:ix+hi-lo], row[lo:hi])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						dst[ix] += row[ox]
						ix += g.sw
					}
				}
			}
		}
	}
}

// tapRows returns the output rows [y0, y1) of tap row i whose input row
// lies in the plane, and the first one's input row iy0.
func (g geom) tapRows(i int) (y0, y1, iy0 int) {
	lo, hi := validRange(g.oh, g.sh, i*g.dh-g.ph, g.h)
	return lo, hi, lo*g.sh - g.ph + i*g.dh
}

// stride2Tap is one tap of one channel of a stride-2 geometry: its row r
// of col, the plane offset of its output (y0, lo)'s input, and its valid
// output rows [y0, y1) and columns [lo, hi) (empty where y1 ≤ y0 or hi ≤
// lo).
type stride2Tap struct{ r, in, y0, y1, lo, hi int }

// eachStride2Tap calls f for every channel and tap of g in col's row order.
func (g geom) eachStride2Tap(f func(ci int, t stride2Tap)) {
	r := 0
	for ci := 0; ci < g.c; ci++ {
		for i := 0; i < g.kh; i++ {
			y0, y1, iy0 := g.tapRows(i)
			for j := 0; j < g.kw; j++ {
				lo, hi := validRange(g.ow, g.sw, j*g.dw-g.pw, g.w)
				f(ci, stride2Tap{r: r, in: iy0*g.w + lo*g.sw + j*g.dw - g.pw, y0: y0, y1: y1, lo: lo, hi: hi})
				r++
			}
		}
	}
}

// im2colStride2 is im2colRows for float32 geometries of stride 2 along
// rows, by the AVX-512 loops (useStride2Rows): one call for all channels
// and taps where the output rows fit a vector (resnet20's 14 and 7
// columns, where per-tap calls cost more than the moves), else one per tap.
// The scalar loop took most of resnet20's stride-2 convolutions' time.
func im2colStride2(col, x []float32, g geom) {
	if im2col2(col, x, g) {
		return
	}
	n, hw := g.cols(), g.h*g.w
	g.eachStride2Tap(func(ci int, t stride2Tap) {
		dst := col[t.r*n : (t.r+1)*n]
		if t.y1 <= t.y0 || t.hi <= t.lo {
			clear(dst)
			return
		}
		gather2Rows32(dst[t.y0*g.ow+t.lo:], x[ci*hw+t.in:(ci+1)*hw], t.y1-t.y0, t.hi-t.lo, g.ow, g.sh*g.w)
		clear(dst[:t.y0*g.ow])
		clear(dst[t.y1*g.ow:])
		if t.lo > 0 || t.hi < g.ow {
			for oy := t.y0; oy < t.y1; oy++ {
				row := dst[oy*g.ow : (oy+1)*g.ow]
				clear(row[:t.lo])
				clear(row[t.hi:])
			}
		}
	})
}

// col2imStride2 is col2imRows for the geometries of im2colStride2, each sum
// as col2imRows'.
func col2imStride2(dx, col []float32, g geom) {
	if col2im2(dx, col, g) {
		return
	}
	n, hw := g.cols(), g.h*g.w
	g.eachStride2Tap(func(ci int, t stride2Tap) {
		if t.y1 > t.y0 && t.hi > t.lo {
			scatter2AddRows32(dx[ci*hw+t.in:(ci+1)*hw], col[t.r*n+t.y0*g.ow+t.lo:(t.r+1)*n], t.y1-t.y0, t.hi-t.lo, g.sh*g.w, g.ow)
		}
	})
}

// rowOps returns the row copy and row add of im2col and col2im's stride-1
// rows: for float32 in the AVX-512 build the 8-wide vector loops (LeNet-5's
// conv2 moves rows of 8 floats, where a memmove call cost more than the data
// it moved), otherwise plain loops.
func rowOps[T float]() (copyRow, addRow func(d, s []T)) {
	if c, a, ok := vecRowOps(); ok {
		if cT, ok := any(c).(func(d, s []T)); ok {
			return cT, any(a).(func(d, s []T))
		}
	}
	return func(d, s []T) { copy(d, s) }, func(d, s []T) {
		d = d[:len(s)]
		for k, v := range s {
			d[k] += v
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// ox·s + off lies in [0, w).
func validRange(ow, s, off, w int) (lo, hi int) {
	// ox·s + off ≥ 0  ⇔  ox ≥ ceil(−off/s)
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	// ox·s + off ≤ w−1  ⇔  ox ≤ floor((w−1−off)/s)
	if w-1-off < 0 {
		return 0, 0
	}
	hi = min(ow, (w-1-off)/s+1)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// Im2col writes one image x (c×h×w) as the (c·kh·kw)×(oh·ow) patch matrix
// col of a convolution with kernel kh×kw and p's stride, padding and
// dilation (p.Groups is ignored: pass one group's channels), 0 in the
// padding, and returns oh and ow. It is the one unfolding of the project's
// float code: the training kernels and nn's integer-exact evaluation (on
// float64 integer codes) both use it. col must hold c·kh·kw·oh·ow values.
func Im2col[T ~float32 | ~float64](col, x []T, c, h, w, kh, kw int, p ConvParams) (oh, ow int) {
	p = p.norm()
	g := geom{c: c, h: h, w: w, kh: kh, kw: kw, sh: p.Stride[0], sw: p.Stride[1], ph: p.Pad[0], pw: p.Pad[1],
		dh: p.Dilation[0], dw: p.Dilation[1]}
	g.oh, g.ow = outSize(h, kh, g.sh, g.ph, g.dh), outSize(w, kw, g.sw, g.pw, g.dw)
	im2col(col[:g.rows()*g.cols()], x[:c*h*w], g)
	return g.oh, g.ow
}

// fill sets every value of dst to v (float32 by fill32's vector loop).
func fill[T float](dst []T, v T) {
	if d, ok := any(dst).([]float32); ok {
		fill32(d, any(v).(float32))
		return
	}
	fillGeneric(dst, v)
}

func fillGeneric[T float](dst []T, v T) {
	for i := range dst {
		dst[i] = v
	}
}
