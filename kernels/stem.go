package kernels

// A one-channel image's 3×3 convolution (a grey-scale network's stem:
// resnet20's and vgg-small's first layer on MNIST-sized images) as a direct
// loop: as a GEMM its depth is 9, and packing cost more than the products
// (resnet20's stem: forward 0.24 ms and weight gradient 0.48 ms a step on
// one core).

// stemArgs is what stemConvAVX512 and stemGradWAVX512 read.
type stemArgs struct {
	o, h, w int // output channels, rows and columns (the input's too)
	wp      int // a padded plane's row stride in floats (w + 2)
	blocks  int // column blocks of 16
	tail    int // the last block's lane mask
	// the weight gradient's: images, padded plane and output-gradient image
	// strides in floats
	n, pplane, dyImg int
}

// stem reports whether this convolution runs as the direct one-channel
// 3×3 loops: float32, one input channel, 3×3, stride 1, padding 1,
// undilated, output channels a multiple of 8, on CPUs with the loops'
// assembly.
func (s *convState) stem(is32 bool) bool {
	g := s.g
	return is32 && stemCPU(hostFloatKernel) && s.p.Groups == 1 && g.c == 1 && g.kh == 3 && g.kw == 3 &&
		g.sh == 1 && g.sw == 1 && g.ph == 1 && g.pw == 1 && g.dh == 1 && g.dw == 1 &&
		s.o%8 == 0 && s.o > 0 && g.h > 0 && g.w > 0 && g.oh == g.h && g.ow == g.w
}

// stemGeom returns the loops' arguments for h × w planes and o output
// channels, and the floats of one zero-bordered plane.
func stemGeom(o, h, w int) (stemArgs, int) {
	a := stemArgs{o: o, h: h, w: w, wp: w + 2, blocks: (w + 15) / 16}
	a.tail = 1<<(w-16*(a.blocks-1)) - 1
	return a, (h + 2) * a.wp
}

// stemPad copies image x (h × w) into the zero-bordered plane p (borders
// already zero).
func stemPad(p, x []float32, h, w int) {
	wp := w + 2
	for r := 0; r < h; r++ {
		copy(p[(r+1)*wp+1:(r+1)*wp+1+w], x[r*w:(r+1)*w])
	}
}

// stemWorker is one goroutine's scratch: zero-bordered planes (their
// borders stay zero from call to call) and the weight gradient's lane sums.
type stemWorker struct {
	g   [3]int // the planes' o, h, w
	p   []float32
	acc []float32
}

// planes returns k zero-bordered planes of size floats for geometry g.
func (sw *stemWorker) planes(g [3]int, k, size int) []float32 {
	if sw.g != g || len(sw.p) < k*size {
		sw.p = make([]float32, k*size)
		sw.g = g
	}
	return sw.p[:k*size]
}

// stemForward sets y (n images of o planes h × w) to the convolution of x
// (n images h × w) with w (o × 9) plus b (nil: none) over nw workers,
// calling done for each image's output while it is in cache.
func (s *convState) stemForward(x, w, b, y []float32, n, nw int, done func(wk, i int, yi []float32)) {
	g := s.g
	a, size := stemGeom(s.o, g.h, g.w)
	s.stemWs = growWorkers(s.stemWs, nw)
	img, out := g.h*g.w, s.o*g.h*g.w
	split(nw, n, func(wk, lo, hi int) {
		p := s.stemWs[wk].planes([3]int{s.o, g.h, g.w}, 1, size)
		for i := lo; i < hi; i++ {
			stemPad(p, x[i*img:(i+1)*img], g.h, g.w)
			yi := y[i*out : (i+1)*out]
			stemConv(yi, p, w, b, &a)
			if done != nil {
				done(wk, i, yi)
			}
		}
	})
}

// stemBackW sets dw (o × 9) to the weight gradient of the n images of x and
// dy over nw workers: each worker's images padded, their lane sums taken
// by the assembly, then added in worker and lane order.
func (s *convState) stemBackW(x, dy, dw []float32, n, nw int) {
	g := s.g
	a, size := stemGeom(s.o, g.h, g.w)
	a.pplane, a.dyImg = size, s.o*g.h*g.w
	s.stemWs = growWorkers(s.stemWs, nw)
	img := g.h * g.w
	per := (n + nw - 1) / nw
	split(nw, n, func(wk, lo, hi int) {
		sw := &s.stemWs[wk]
		sw.acc = grow(sw.acc, s.o*9*16)
		if lo == hi {
			clear(sw.acc)
			return
		}
		p := sw.planes([3]int{s.o, g.h, g.w}, per, size)
		for i := lo; i < hi; i++ {
			stemPad(p[(i-lo)*size:], x[i*img:(i+1)*img], g.h, g.w)
		}
		wa := a
		wa.n = hi - lo
		stemGradW(sw.acc, p, dy[lo*a.dyImg:hi*a.dyImg], &wa)
	})
	for k := range dw[:s.o*9] {
		var sum float32
		for wk := range nw {
			for _, v := range s.stemWs[wk].acc[16*k : 16*k+16] {
				sum += v
			}
		}
		dw[k] = sum
	}
}

// growWorkers returns ws with at least nw workers.
func growWorkers(ws []stemWorker, nw int) []stemWorker {
	if len(ws) < nw {
		ws = append(ws, make([]stemWorker, nw-len(ws))...)
	}
	return ws
}
