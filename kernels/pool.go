package kernels

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// poolState is shared by a max-pool's forward and backward ops: the forward
// records, for every output, the flat index of its maximum in x.
type poolState struct {
	k, s, p [2]int
	// fold, when claimed, masks the routed gradient by a fake quantizer's
	// window on pre, the quantizer's input (MaxPool2dFold)
	fold   *Fold
	xShape tensor.Shape
	argmax []int32
	xLen   int
	// windowed: the last forward applied the fold's window to argmax (−1
	// where the quantizer's input at the maximum lies outside it), so the
	// backward scatters without reading that input
	windowed bool
	// xq holds the fold's quantized values where the quantizer left them
	// to the pool and the vector loop that quantizes as it loads does not
	// run
	xq []float32
}

// foldQuantize sets dst to the folded quantizer's output for src, by the
// formula fakequant.QuantizingProducer gives with c = (s, 1/s, lo, hi,
// rlo, rhi) (fakequant's fq32Generic), the bulk by the AVX2 loop where
// the CPU has it (the same bits).
func foldQuantize(dst, src []float32, c *[6]float32) {
	const magic = 1.5 * (1 << 23)
	s, inv, lo, hi, rlo, rhi := c[0], c[1], c[2], c[3], c[4], c[5]
	dst = dst[:len(src)]
	if k := foldQuantizeVec(dst, src, c); k > 0 {
		dst, src = dst[k:], src[k:]
	}
	for i, x := range src {
		y := float32(x * inv) // the conversion forbids fusing into an FMA
		if !(y >= lo) {
			y = lo
		}
		if y > hi {
			y = hi
		}
		r := float32(y+magic) - magic
		if r < rlo {
			r = rlo
		}
		if r > rhi {
			r = rhi
		}
		dst[i] = r * s
	}
}

// poolWindow is what a windowed forward needs of a fold: the quantizer's
// edge outputs and its window as the masked scatter tests it (lo < v and
// not v >= hi).
type poolWindow struct{ eLo, eHi, lo, hi float32 }

// window returns the fold's window when the forward can apply it: the
// fold claimed by this pool, its quantizer run after the producer with
// quantization on, and its edge outputs set for that run.
func (s *poolState) window() (poolWindow, bool) {
	f := s.fold
	if f == nil || !f.claimed || f.all || f.gen == 0 || f.maskOf != f.gen || f.edgesOf != f.gen {
		return poolWindow{}, false
	}
	lo, hi := foldWindow(0, f)
	return poolWindow{eLo: f.eLo, eHi: f.eHi, lo: lo, hi: hi}, true
}

// windowArgmax sets am[i] to −1 where pre at the maximum lies outside the
// window: only where y[i] is not strictly between the edge outputs (the
// quantizer is non-decreasing, so such a maximum came from inside), the
// test the masked scatter makes at every maximum.
func windowArgmax(am []int32, y, pre []float32, w poolWindow) {
	y = y[:len(am)]
	for i, v := range y {
		if v > w.eLo && v < w.eHi {
			continue
		}
		if j := am[i]; j >= 0 {
			if p := pre[j]; !(p > w.lo && !(p >= w.hi)) {
				am[i] = -1
			}
		}
	}
}

func (s *poolState) outShape(name string, xs tensor.Shape) (tensor.Shape, error) {
	if len(xs) != 4 {
		return nil, fmt.Errorf("%w: %s: x %v must be 4-D (NCHW)", ErrShape, name, xs)
	}
	if s.k[0] < 1 || s.k[1] < 1 || s.s[0] < 1 || s.s[1] < 1 || s.p[0] < 0 || s.p[1] < 0 ||
		2*s.p[0] > s.k[0] || 2*s.p[1] > s.k[1] {
		return nil, fmt.Errorf("%w: %s: kernel %v stride %v pad %v (pad must be at most half the kernel)", ErrShape, name, s.k, s.s, s.p)
	}
	oh := outSize(xs[2], s.k[0], s.s[0], s.p[0], 1)
	ow := outSize(xs[3], s.k[1], s.s[1], s.p[1], 1)
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("%w: %s: input %v too small for kernel %v", ErrShape, name, xs, s.k)
	}
	return tensor.Shape{xs[0], xs[1], oh, ow}, nil
}

// MaxPool2d returns the max pooling of x (N,C,H,W) over kernel windows moved
// by stride, with implicit −∞ padding, as PyTorch's max_pool2d (floor mode):
// output (N,C,Ho,Wo). Its gradient routes each output's gradient to the first
// maximum of its window (row-major), as PyTorch does with ties.
func MaxPool2d(x *G.Node, kernel, stride, pad [2]int) (*G.Node, error) {
	st := &poolState{k: kernel, s: stride, p: pad, xShape: x.Shape()}
	if _, err := st.outShape("MaxPool2d", st.xShape); err != nil {
		return nil, err
	}
	return G.ApplyOp(&poolOp{opBase: opBase{name: "kernels.MaxPool2d"}, st: st}, x)
}

// MaxPool2dFold is MaxPool2d of x, the output of a fake quantizer folded
// through f whose input is pre (same shape as x): while f is claimed (the
// function claims it; f.Release gives it back before the gradient is
// built), the backward routes each output's gradient to its maximum only
// where pre lies in the quantizer's window — the quantizer's own
// straight-through mask, applied in the scatter instead of in a pass of its
// own. x and pre are Float32. The forward reads pre where a maximum is one
// of the quantizer's edge outputs (fakequant.EdgeProducer) and records the
// window in its indices, so that the backward reads pre not at all; where
// its vector loop runs (2×2 windows of stride 2 on even planes, AVX-512)
// it also quantizes pre as it loads it, and the quantizer writes no x
// (fakequant.QuantizingProducer: the pool is x's one reader).
func MaxPool2dFold(x, pre *G.Node, kernel, stride, pad [2]int, f *Fold) (*G.Node, error) {
	if f == nil || pre == nil {
		return nil, fmt.Errorf("%w: MaxPool2dFold: nil fold or quantizer input", ErrShape)
	}
	if x.Dtype() != tensor.Float32 || pre.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: MaxPool2dFold: x %v, pre %v: a fold needs float32", ErrDtype, x.Dtype(), pre.Dtype())
	}
	if !x.Shape().Eq(pre.Shape()) {
		return nil, fmt.Errorf("%w: MaxPool2dFold: x %v, quantizer input %v", ErrShape, x.Shape(), pre.Shape())
	}
	st := &poolState{k: kernel, s: stride, p: pad, xShape: x.Shape(), fold: f}
	if _, err := st.outShape("MaxPool2d", st.xShape); err != nil {
		return nil, err
	}
	// the quantizer leaves its output to the pool only where the vector
	// loop that quantizes as it loads runs (foldQuantize's Go loop would
	// be slower than the quantizer's own pass)
	xs := st.xShape
	f.claimed = true
	f.quantizes = st.k == [2]int{2, 2} && st.s == [2]int{2, 2} && st.p == [2]int{} && len(xs) == 4 && xs[2]%2 == 0 && xs[3]%2 == 0 && usePool2x2Fast()
	return G.ApplyOp(&poolOp{opBase: opBase{name: "kernels.MaxPool2d"}, st: st, pre: pre}, x, pre)
}

type poolOp struct {
	opBase
	st  *poolState
	pre *G.Node // MaxPool2dFold's quantizer input: its second input
	out *tensor.Dense
}

func (o *poolOp) Arity() int {
	if o.pre != nil {
		return 2
	}
	return 1
}
func (o *poolOp) Type() hm.Type {
	if o.pre != nil {
		return opType(4, 4, 4)
	}
	return opType(4, 4)
}
func (o *poolOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *poolOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *poolOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, o.Arity())
	if err != nil {
		return nil, err
	}
	return o.st.outShape(o.name, s[0])
}

func (o *poolOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, o.Arity())
	if err != nil {
		return nil, err
	}
	xs := in[0].Shape()
	var pre []float32
	if o.pre != nil {
		if dt != tensor.Float32 || in[1].Shape().TotalSize() != xs.TotalSize() {
			return nil, fmt.Errorf("%w: %s: quantizer input %v for x %v (%v)", ErrShape, o.name, in[1].Shape(), xs, dt)
		}
		pre = in[1].Data().([]float32)
	}
	os, err := o.st.outShape(o.name, xs)
	if err != nil {
		return nil, err
	}
	out := reuseOut(&o.out, dt, os...)
	if cap(o.st.argmax) < os.TotalSize() {
		o.st.argmax = make([]int32, os.TotalSize())
	}
	o.st.argmax = o.st.argmax[:os.TotalSize()]
	o.st.xLen = xs.TotalSize()
	if dt == tensor.Float32 {
		poolForward(o.st, in[0].Data().([]float32), out.Data().([]float32), pre, xs, os)
	} else {
		poolForward(o.st, in[0].Data().([]float64), out.Data().([]float64), nil, xs, os)
	}
	return out, nil
}

// poolForward pools x into y; pre, when not nil, is the folded quantizer's
// input, whose window the indices then record where the fold allows
// (st.windowed).
func poolForward[T float](st *poolState, x, y []T, pre []float32, xs, os tensor.Shape) {
	planes := xs[0] * xs[1]
	h, w := xs[2], xs[3]
	win, windowed := st.window()
	windowed = windowed && pre != nil
	st.windowed = windowed
	// quant: the folded quantizer left x unwritten, this op computes it
	f := st.fold
	quant := pre != nil && f != nil && f.gen != 0 && f.fqOf == f.gen
	fast := false
	if st.k == [2]int{2, 2} && st.s == [2]int{2, 2} && st.p == [2]int{} && h%2 == 0 && w%2 == 0 {
		if _, ok := any(x).([]float32); ok && usePool2x2Fast() {
			fast = true
		}
	}
	// the vector loop applies the window, and quantizes as it loads
	var pw *poolWindow
	var fq *[6]float32
	if windowed {
		pw = &win
		if quant && fast {
			fq = &f.fq
		}
	}
	if quant && fq == nil {
		// quantized into a buffer of the op's own, pooled from there
		st.xq = grow(st.xq, len(pre))
		x = any(st.xq).([]T)
	}
	inner := h * w
	// The planes split over the cores: a window never leaves its plane.
	split(poolWorkers(len(x), planes), planes, func(_, lo, hi int) {
		if quant && fq == nil {
			foldQuantize(st.xq[lo*inner:hi*inner], pre[lo*inner:hi*inner], &f.fq)
		}
		if fast {
			pool2x2Fast(st, any(x).([]float32), any(y).([]float32), pre, pw, fq, lo, hi, h, w)
			return
		}
		if !pool2x2AVX2(st, x, y, lo, hi, h, w) {
			poolPlanes(st, x, y, xs, os, lo, hi)
		}
		if windowed {
			out := os[2] * os[3]
			windowArgmax(st.argmax[lo*out:hi*out], any(y).([]float32)[lo*out:hi*out], pre, win)
		}
	})
}

// poolWorkers is how many goroutines split a pool over its planes.
func poolWorkers(n, planes int) int {
	if n < parallelMin {
		return 1
	}
	return min(workersFor(0, 8), planes)
}

// max2x2 is a 2×2 window's maximum and its index: x[i], x[i+1] on one
// row, x[j], x[j+1] on the next, the index moving on only to a strictly
// greater value, the maximum Go's max (NaN wins). Written so that the
// index updates compile to conditional moves: with random data the
// branches of an if/else chain mispredict about half the time.
func max2x2[T float](x []T, i, j int) (T, int32) {
	a, b, c, d := x[i], x[i+1], x[j], x[j+1]
	bi := i
	if b > a {
		bi = i + 1
	}
	best := max(a, b)
	if c > best {
		bi = j
	}
	best = max(best, c)
	if d > best {
		bi = j + 1
	}
	return max(best, d), int32(bi)
}

// poolPlanes is poolForward of planes lo..hi−1 by the Go loops.
func poolPlanes[T float](st *poolState, x, y []T, xs, os tensor.Shape, lo, hi int) {
	h, w, oh, ow := xs[2], xs[3], os[2], os[3]
	am := st.argmax
	if st.k == [2]int{2, 2} && st.s == [2]int{2, 2} && st.p == [2]int{} {
		// LeNet's pool: no padding, every window whole.
		for pl := lo; pl < hi; pl++ {
			base := pl * h * w
			for oy := 0; oy < oh; oy++ {
				r0 := base + 2*oy*w
				r1 := r0 + w
				yo := (pl*oh + oy) * ow
				for ox := 0; ox < ow; ox++ {
					y[yo+ox], am[yo+ox] = max2x2(x, r0+2*ox, r1+2*ox)
				}
			}
		}
		return
	}
	for pl := lo; pl < hi; pl++ {
		base := pl * h * w
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best, bi := T(math.Inf(-1)), -1
				for i := 0; i < st.k[0]; i++ {
					iy := oy*st.s[0] - st.p[0] + i
					if iy < 0 || iy >= h {
						continue
					}
					for j := 0; j < st.k[1]; j++ {
						ix := ox*st.s[1] - st.p[1] + j
						if ix < 0 || ix >= w {
							continue
						}
						// NaN wins, as in PyTorch, so it propagates.
						if v := x[base+iy*w+ix]; bi < 0 || v > best || v != v {
							best, bi = v, base+iy*w+ix
							if v != v {
								i, j = st.k[0], st.k[1]
							}
						}
					}
				}
				o := (pl*oh+oy)*ow + ox
				y[o], am[o] = best, int32(bi)
			}
		}
	}
}

func (o *poolOp) DiffWRT(int) []bool {
	if o.pre != nil {
		return []bool{true, false}
	}
	return []bool{true}
}

func (o *poolOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if f := o.st.fold; f != nil && f.claimed {
		// masked by the window on the quantizer's input
		dx, err := G.ApplyOp(&poolGradOp{opBase: opBase{name: "kernels.MaxPool2dGrad"}, st: o.st, masked: true}, ins[0], grad, o.pre)
		if err != nil {
			return nil, err
		}
		return G.Nodes{dx, nil}, nil
	}
	dx, err := G.ApplyOp(&poolGradOp{opBase: opBase{name: "kernels.MaxPool2dGrad"}, st: o.st}, ins[0], grad)
	if err != nil {
		return nil, err
	}
	if o.pre != nil {
		return G.Nodes{dx, nil}, nil
	}
	return G.Nodes{dx}, nil
}

// poolGradOp: (x, dy) → dx, scattering dy to the recorded maxima; masked:
// (x, dy, pre) → dx, only where pre is inside the fold's window.
type poolGradOp struct {
	opBase
	noDiff
	st     *poolState
	masked bool
	out    *tensor.Dense
	ownPlan
}

func (o *poolGradOp) Arity() int {
	if o.masked {
		return 3
	}
	return 2
}
func (o *poolGradOp) Type() hm.Type {
	if o.masked {
		return opType(4, 4, 4, 4)
	}
	return opType(4, 4, 4)
}
func (o *poolGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *poolGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *poolGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, o.Arity())
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (o *poolGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, o.Arity())
	if err != nil {
		return nil, err
	}
	xs := in[0].Shape()
	if xs.TotalSize() != o.st.xLen || in[1].Shape().TotalSize() != len(o.st.argmax) {
		return nil, fmt.Errorf("%w: %s: x %v, dy %v do not match the forward", ErrShape, o.name, xs, in[1].Shape())
	}
	out := plannedOut(&o.out, o.plan, dt, xs...)
	if o.masked {
		f := o.st.fold
		if err := f.checkMask(o.name); err != nil {
			return nil, err
		}
		if dt != tensor.Float32 || in[2].Shape().TotalSize() != o.st.xLen {
			return nil, fmt.Errorf("%w: %s: quantizer input %v (%v) for x %v", ErrShape, o.name, in[2].Shape(), dt, xs)
		}
		if f.all || o.st.windowed { // quantization off, or the window in argmax: the plain gradient
			poolScatter(o.st, xs, o.st.argmax, in[1].Data().([]float32), out.Data().([]float32), nil, 0, 0)
			return out, nil
		}
		lo, hi := foldWindow(0, f)
		poolScatter(o.st, xs, o.st.argmax, in[1].Data().([]float32), out.Data().([]float32), in[2].Data().([]float32), lo, hi)
		return out, nil
	}
	if dt == tensor.Float32 {
		poolScatter(o.st, xs, o.st.argmax, in[1].Data().([]float32), out.Data().([]float32), nil, 0, 0)
	} else {
		poolScatter(o.st, xs, o.st.argmax, in[1].Data().([]float64), out.Data().([]float64), nil, 0, 0)
	}
	return out, nil
}

// poolScatter is poolBackward, or poolBackwardMasked when pre is not nil,
// over the planes of x (shape xs) split between the cores: every maximum
// lies in its own output's plane, so each plane's sums are the same.
func poolScatter[T float](st *poolState, xs tensor.Shape, am []int32, dy, dx, pre []T, lo, hi T) {
	planes := xs[0] * xs[1]
	in, out := len(dx)/planes, len(dy)/planes
	// 2×2 windows of stride 2 tile an even plane: one vector pass.
	pairs := st.k == [2]int{2, 2} && st.s == [2]int{2, 2} && st.p == [2]int{} && xs[2]%2 == 0 && xs[3]%2 == 0
	split(poolWorkers(len(dx), planes), planes, func(_, p0, p1 int) {
		a, g, d := am[p0*out:p1*out], dy[p0*out:p1*out], dx[p0*in:p1*in]
		off := int32(p0 * in) // am holds indices into the whole of dx
		if g32, ok := any(g).([]float32); ok && pairs {
			var pre32 []float32
			if pre != nil {
				pre32 = any(pre[p0*in : p1*in]).([]float32)
			}
			if pool2Back32(a, g32, any(d).([]float32), pre32, xs[3], off, float32(lo), float32(hi)) {
				return
			}
		}
		if pre != nil {
			poolBackwardMasked(a, g, d, any(pre[p0*in:p1*in]).([]float32), float32(lo), float32(hi), off)
			return
		}
		poolBackward(a, g, d, off)
	})
}

// poolBackwardMasked is poolBackward adding dy only where lo < pre and not
// pre >= hi at the maximum (windowGradGeneric's test): the quantizer's mask
// times the routed sum, the same bits as the two passes.
func poolBackwardMasked[T float](am []int32, dy, dx []T, pre []float32, lo, hi float32, off int32) {
	clear(dx)
	for i, g := range dy {
		if j := am[i] - off; j >= 0 {
			if v := pre[j]; v > lo && !(v >= hi) {
				dx[j] += g
			}
		}
	}
}

// poolBackward scatters dy to dx at the maxima am (indices into a tensor
// of which dx starts at index off; −1: none).
func poolBackward[T float](am []int32, dy, dx []T, off int32) {
	clear(dx)
	for i, g := range dy {
		if j := am[i] - off; j >= 0 {
			dx[j] += g
		}
	}
}

// grow32 returns s resized to n elements, reallocating only when too small.
func grow32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
