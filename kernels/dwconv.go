package kernels

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A depthwise convolution (groups = channels) has one tiny filter per
// channel: as GEMMs it would be C products of one row each, all overhead.
// The direct kernel here turns it into 1-D correlations instead. Each input
// plane is stored once, zero-padded and split into stride phases: phase
// (ri, rj) holds the padded pixels (a, b) with a ≡ ri (mod sh), b ≡ rj (mod
// sw), at (a/sh, b/sw) in a plane of pitch wq. Output (oy, ox) under tap
// (i, j) then reads phase ((i·dh) mod sh, (j·dw) mod sw) at flat index
// oy·wq + ox + off(i, j): every tap is one contiguous, shifted run over the
// whole plane, whatever the stride, padding or dilation. Outputs are
// computed at pitch wq (the columns past ow are discarded), so a 3×3 filter
// is 9 vector multiply-adds per 16 outputs with no bounds checks.

// dwLayout is the phase-split layout of one padded input plane, and for
// stride 1 the layout of the output gradient that the input gradient reads.
type dwLayout struct {
	g      geom
	hq, wq int   // rows and pitch of one phase plane
	ps     int   // floats per input plane, all sh·sw phases
	offs   []int // per tap (i, j), row-major: where output 0 reads it

	// With stride 1 and at most "same" padding, dx is the correlation of
	// dy, placed at (mt, ml) in a zero plane of rows × pitch dp, with the
	// taps mirrored: dx(iy, ix) = Σ w(i,j)·dyp(iy + (kh−1−i)·dh, ix +
	// (kw−1−j)·dw). Other geometries add each tap's share into a
	// phase-split gradient plane instead.
	direct         bool
	dr, dp, mt, ml int
	toffs          []int // per tap: where dx(0, 0) reads dyp
}

func newDwLayout(g geom) dwLayout {
	wp := g.w + 2*g.pw
	wq := (wp + g.sw - 1) / g.sw
	// The rows any output reads, plus one row that absorbs the reads of
	// the discarded columns of the last output row.
	hq := g.oh + (g.kh-1)*g.dh/g.sh + 1
	phase := hq * wq
	l := dwLayout{g: g, hq: hq, wq: wq, ps: g.sh * g.sw * phase}
	for i := 0; i < g.kh; i++ {
		a := i * g.dh
		for j := 0; j < g.kw; j++ {
			b := j * g.dw
			l.offs = append(l.offs, ((a%g.sh)*g.sw+b%g.sw)*phase+(a/g.sh)*wq+b/g.sw)
		}
	}
	eh, ew := (g.kh-1)*g.dh, (g.kw-1)*g.dw // the kernel's extent
	l.direct = g.sh == 1 && g.sw == 1 && g.ph <= eh && g.pw <= ew
	if l.direct {
		l.dr, l.dp, l.mt, l.ml = g.h+eh, g.w+ew, eh-g.ph, ew-g.pw
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				l.toffs = append(l.toffs, (g.kh-1-i)*g.dh*l.dp+(g.kw-1-j)*g.dw)
			}
		}
	}
	return l
}

func (l *dwLayout) same(g geom) bool { return l.offs != nil && l.g == g }

// flat is the length of an output plane at pitch wq.
func (l *dwLayout) flat() int { return l.g.oh * l.wq }

// dwScatter writes the input plane x (h×w) to its padded, phase-split place
// in xph. The padding is never written: it stays 0 from the allocation.
func dwScatter[T float](l *dwLayout, xph, x []T, kr *dwKernels[T]) {
	g := l.g
	phase := l.hq * l.wq
	for iy := 0; iy < g.h; iy++ {
		a := iy + g.ph
		qa, ra := a/g.sh, a%g.sh
		if qa >= l.hq {
			break // rows below the last one read
		}
		src := x[iy*g.w : (iy+1)*g.w]
		if g.sw == 1 {
			kr.copyRow(xph[ra*phase+qa*l.wq+g.pw:], src)
			continue
		}
		if g.sw == 2 {
			// Even pixels go to column phase pw mod 2, odd ones to the
			// other, both from column (ix + pw)/2.
			re, ro := g.pw%2, (1+g.pw)%2
			kr.deint2(xph[(ra*2+re)*phase+qa*l.wq+g.pw/2:], xph[(ra*2+ro)*phase+qa*l.wq+(1+g.pw)/2:], src)
			continue
		}
		// Column phase rj holds the pixels ix ≡ rj − pw (mod sw), side by
		// side.
		for rj := 0; rj < g.sw; rj++ {
			ix0 := ((rj-g.pw)%g.sw + g.sw) % g.sw
			k := (ra*g.sw+rj)*phase + qa*l.wq + (ix0+g.pw)/g.sw
			for ix := ix0; ix < g.w; ix += g.sw {
				xph[k] = src[ix]
				k++
			}
		}
	}
}

// dwGather is the adjoint of dwScatter: it reads the plane x back from its
// place in xph, and writes 0 for rows that no output reads.
func dwGather[T float](l *dwLayout, x, xph []T, kr *dwKernels[T]) {
	g := l.g
	phase := l.hq * l.wq
	for iy := 0; iy < g.h; iy++ {
		a := iy + g.ph
		qa, ra := a/g.sh, a%g.sh
		dst := x[iy*g.w : (iy+1)*g.w]
		if qa >= l.hq {
			clear(dst)
			continue
		}
		if g.sw == 1 {
			k := ra*phase + qa*l.wq + g.pw
			kr.copyRow(dst, xph[k:k+g.w])
			continue
		}
		if g.sw == 2 {
			re, ro := g.pw%2, (1+g.pw)%2
			kr.inter2(dst, xph[(ra*2+re)*phase+qa*l.wq+g.pw/2:], xph[(ra*2+ro)*phase+qa*l.wq+(1+g.pw)/2:])
			continue
		}
		for rj := 0; rj < g.sw; rj++ {
			ix0 := ((rj-g.pw)%g.sw + g.sw) % g.sw
			k := (ra*g.sw+rj)*phase + qa*l.wq + (ix0+g.pw)/g.sw
			for ix := ix0; ix < g.w; ix += g.sw {
				dst[ix] = xph[k]
				k++
			}
		}
	}
}

// dwRows32 is dwScatter (gather false) or dwGather of planes consecutive
// float32 planes (x's h·w apart, xph's ps apart) for column strides 1 and
// 2: a vector call per plane and row phase (the rows iy ≡ ra − ph mod sh,
// sh·w apart in x and wq apart in xph) where dwScatter and dwGather made a
// call per row — a quarter of a MobileNetV2 step went to moving planes in
// and out of the padded layout, most of it in calls on 4- to 28-value
// rows. False (nothing done) for other types, strides or builds.
func dwRows32[T float](l *dwLayout, xph, x []T, planes int, gather bool) bool {
	g := l.g
	if !dwRowsVec[T](l) || planes <= 0 {
		return false
	}
	xp32, x32 := any(xph).([]float32), any(x).([]float32)
	plane, phase := g.h*g.w, l.hq*l.wq
	_, _ = x32[planes*plane-1], xp32[planes*l.ps-1] // the planes' rows lie inside them (the layout's sizes)
	var m8 [8]int32
	var m2 [4][8]int32
	if g.sw == 1 {
		m8 = tailMask8(g.w)
	} else {
		m2 = rowMasks2(g.w)
	}
	re, ro := g.pw%2, (1+g.pw)%2
	done := 0 // rows of a plane covered
	for ra := 0; ra < g.sh; ra++ {
		// the phase's first row: the smallest iy with (iy+ph) mod sh = ra
		iy0 := ((ra-g.ph)%g.sh + g.sh) % g.sh
		if iy0 >= g.h {
			continue
		}
		qa0 := (iy0 + g.ph) / g.sh
		rows := min((g.h-1-iy0)/g.sh+1, l.hq-qa0)
		if rows <= 0 {
			continue
		}
		done += rows
		for p := range planes {
			src := x32[p*plane+iy0*g.w:]
			xp := xp32[p*l.ps:]
			switch {
			case g.sw == 1 && gather:
				copyRowsAVX2(&src[0], &xp[ra*phase+qa0*l.wq+g.pw], rows, g.w, g.sh*g.w, l.wq, &m8)
			case g.sw == 1:
				copyRowsAVX2(&xp[ra*phase+qa0*l.wq+g.pw], &src[0], rows, g.w, l.wq, g.sh*g.w, &m8)
			case gather:
				inter2RowsAVX2(&src[0], &xp[(ra*2+re)*phase+qa0*l.wq+g.pw/2], &xp[(ra*2+ro)*phase+qa0*l.wq+(1+g.pw)/2], rows, g.w, g.sh*g.w, l.wq, &m2)
			default:
				deint2RowsAVX2(&xp[(ra*2+re)*phase+qa0*l.wq+g.pw/2], &xp[(ra*2+ro)*phase+qa0*l.wq+(1+g.pw)/2], &src[0], rows, g.w, l.wq, g.sh*g.w, &m2)
			}
		}
	}
	if gather && done < g.h {
		// rows that no output reads (qa ≥ hq): their gradient is 0
		for iy := 0; iy < g.h; iy++ {
			if (iy+g.ph)/g.sh >= l.hq {
				for p := range planes {
					clear(x32[p*plane+iy*g.w : p*plane+(iy+1)*g.w])
				}
			}
		}
	}
	return true
}

// dwRowsVec reports whether dwRows32 moves planes of layout l and type T.
func dwRowsVec[T float](l *dwLayout) bool {
	var z T
	_, is32 := any(z).(float32)
	return is32 && useRows32 && (l.g.sw == 1 || l.g.sw == 2)
}

// deint2 writes the even elements of src to e and the odd ones to o.
func deint2[T float](e, o, src []T) {
	n := len(src) / 2
	e, o, src = e[:(len(src)+1)/2], o[:n], src[:2*n+len(src)%2]
	for i := range o {
		e[i], o[i] = src[2*i], src[2*i+1]
	}
	if len(src)%2 == 1 {
		e[n] = src[2*n]
	}
}

// inter2 is the inverse of deint2: dst's even elements from e, odd from o.
func inter2[T float](dst, e, o []T) {
	n := len(dst) / 2
	e, o = e[:(len(dst)+1)/2], o[:n]
	for i := range o {
		dst[2*i], dst[2*i+1] = e[i], o[i]
	}
	if len(dst)%2 == 1 {
		dst[2*n] = e[n]
	}
}

// checkRange panics unless a plane of need elements fits in n, and every
// tap's run of span elements from its offset fits in nIn: the vector loops
// (archsimd and assembly) rely on it (a failure is a bug in this package, not bad input).
func checkRange(n, need, nIn, span int, offs []int) {
	if n < need {
		panic("kernels: depthwise plane too short")
	}
	for _, o := range offs {
		if o < 0 || o+span > nIn {
			panic("kernels: depthwise tap out of range")
		}
	}
}

// dwKernels are the inner loops of the depthwise convolution.
type dwKernels[T float] struct {
	// corrRows computes an oh×ow plane out from the plane in of the given
	// pitch: out(oy, ox) = init + Σ_t w[t]·in[oy·pitch + ox + offs[t]],
	// added to out's contents when add.
	corrRows func(out []T, oh, ow int, in []T, pitch int, offs []int, w []T, init T, add bool)
	// dotsRows adds Σ_{oy,ox} dy(oy, ox)·in[oy·pitch + ox + offs[t]] for
	// every tap t into acc[t·lanes : (t+1)·lanes], as partial sums whose
	// total is the dot product.
	dotsRows func(acc, dy []T, oh, ow int, in []T, pitch int, offs []int)
	lanes    int
	// axpy adds a·src into dst (same length).
	axpy func(dst, src []T, a T)
	// copyRow copies s into d (d at least as long).
	copyRow func(d, s []T)
	// deint2 and inter2 are the functions of those names (stride 2's
	// column phases).
	deint2 func(e, o, src []T)
	inter2 func(dst, e, o []T)
}

// dwKernelsFor returns the AVX-512 loops for float32 in the SIMD build,
// else the plain ones.
func dwKernelsFor[T float]() dwKernels[T] {
	if k, ok := vecDwKernels(); ok {
		if kT, ok := any(k).(dwKernels[T]); ok {
			return kT
		}
	}
	return dwKernels[T]{corrRows: corrRowsGeneric[T], dotsRows: dotsRowsGeneric[T], lanes: 1,
		axpy: axpyGeneric[T], copyRow: func(d, s []T) { copy(d, s) }, deint2: deint2[T], inter2: inter2[T]}
}

func corrRowsGeneric[T float](out []T, oh, ow int, in []T, pitch int, offs []int, w []T, init T, add bool) {
	for oy := 0; oy < oh; oy++ {
		row := out[oy*ow : (oy+1)*ow]
		for k := range row {
			if add {
				row[k] += init
			} else {
				row[k] = init
			}
		}
		for t, off := range offs {
			wt, src := w[t], in[oy*pitch+off:oy*pitch+off+ow]
			for k, v := range src {
				row[k] += wt * v
			}
		}
	}
}

func dotsRowsGeneric[T float](acc, dy []T, oh, ow int, in []T, pitch int, offs []int) {
	for t, off := range offs {
		var s T
		for oy := 0; oy < oh; oy++ {
			src := in[oy*pitch+off : oy*pitch+off+ow]
			for k, v := range dy[oy*ow : (oy+1)*ow] {
				s += v * src[k]
			}
		}
		acc[t] += s
	}
}

func axpyGeneric[T float](dst, src []T, a T) {
	dst = dst[:len(src)]
	for k, v := range src {
		dst[k] += a * v
	}
}

// dwState is shared by a depthwise convolution's forward and gradient ops.
type dwState struct {
	cs   *convState // parameters, shapes, and the last forward's geometry
	mult int        // output channels per input channel
	lay  dwLayout
	f32  dwBufs[float32]
	f64  dwBufs[float64]
}

type dwBufs[T float] struct {
	w []dwWorker[T]
}

// dwWorker is what each goroutine of a depthwise convolution owns.
type dwWorker[T float] struct {
	xph  []T // an image's input planes, padded and phase-split
	dyp  []T // an output gradient plane placed for the direct dx
	dyz  []T // an output gradient plane at pitch wq, discarded columns 0
	dxph []T // an input gradient plane, padded and phase-split
	acc  []T // partial sums of dW, lanes per weight
	part []T // this worker's share of dW (worker 0 writes dW itself)
}

func dwBufsFor[T float](s *dwState) *dwBufs[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&s.f32).(*dwBufs[T])
	}
	return any(&s.f64).(*dwBufs[T])
}

func (b *dwBufs[T]) workers(nw int) []dwWorker[T] {
	if len(b.w) < nw {
		b.w = append(b.w, make([]dwWorker[T], nw-len(b.w))...)
	}
	return b.w[:nw]
}

// setGeom records the geometry of a forward run; a new layout drops the
// buffers, whose zeros (padding, discarded columns) belong to the old one.
func (s *dwState) setGeom(g geom, n int) {
	s.cs.g, s.cs.n = g, n
	if s.lay.same(g) {
		return
	}
	s.lay = newDwLayout(g)
	s.f32 = dwBufs[float32]{}
	s.f64 = dwBufs[float64]{}
}

// depthwise applies the direct kernel to a convolution that Conv2d has
// checked: groups = C, w (C·mult, 1, kh, kw).
// post holds the batch norm's inputs of a Conv2dBNEval (cs.post set).
// convNode has checked the operands.
func depthwise(x, w, b *G.Node, cs *convState, post ...*G.Node) (*G.Node, error) {
	st := &dwState{cs: cs, mult: cs.o / cs.xShape[1]}
	children := []*G.Node{x, w}
	if b != nil {
		children = append(children, b)
	}
	children = append(children, post...)
	name := "kernels.DepthwiseConv2d"
	if cs.post != nil {
		name = "kernels.DepthwiseConv2dBNEval"
	}
	return G.ApplyOp(&dwOp{opBase: opBase{name: name}, st: st}, children...)
}

type dwOp struct {
	opBase
	st  *dwState
	out *tensor.Dense
}

func (o *dwOp) arity() int {
	n := 2
	if o.st.cs.hasBias {
		n = 3
	}
	if o.st.cs.post != nil {
		n += o.st.cs.post.arity()
	}
	return n
}
func (o *dwOp) Arity() int { return o.arity() }
func (o *dwOp) Type() hm.Type {
	in := []int{4, 4}
	for range o.arity() - 2 {
		in = append(in, 1)
	}
	return opType(4, in...)
}
func (o *dwOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *dwOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }

func (o *dwOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, o.arity())
	if err != nil {
		return nil, err
	}
	g, err := o.st.cs.geomFor(o.name, s[0], s[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][0], s[1][0], g.oh, g.ow}, nil
}

func (o *dwOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, o.arity())
	if err != nil {
		return nil, err
	}
	xs, ws := in[0].Shape(), in[1].Shape()
	g, err := o.st.cs.geomFor(o.name, xs, ws)
	if err != nil {
		return nil, err
	}
	if ws[0] != o.st.cs.o || ws[1] != 1 {
		return nil, fmt.Errorf("%w: %s: w %v, want (%d,1,kh,kw)", ErrShape, o.name, ws, o.st.cs.o)
	}
	if o.st.cs.hasBias && in[2].Shape().TotalSize() != ws[0] {
		return nil, fmt.Errorf("%w: %s: bias %v for %d channels", ErrShape, o.name, in[2].Shape(), ws[0])
	}
	o.st.setGeom(g, xs[0])
	if p := o.st.cs.post; p != nil {
		base := o.arity() - p.arity()
		for _, t := range in[base:] {
			if t.Shape().TotalSize() != ws[0] {
				return nil, fmt.Errorf("%w: %s: batch-norm parameter %v for %d channels", ErrShape, o.name, t.Shape(), ws[0])
			}
		}
		p.set(in[base:])
	}
	out := reuseOut(&o.out, dt, xs[0], ws[0], g.oh, g.ow)
	if dt == tensor.Float32 {
		dwForward(o.st, in, out.Data().([]float32))
	} else {
		dwForward(o.st, in, out.Data().([]float64))
	}
	return out, nil
}

func dwForward[T float](st *dwState, in []*tensor.Dense, y []T) {
	bf := dwBufsFor[T](st)
	kr := dwKernelsFor[T]()
	l := &st.lay
	g, n, mult := l.g, st.cs.n, st.mult
	x, w := in[0].Data().([]T), in[1].Data().([]T)
	var b []T
	if st.cs.hasBias {
		b = in[2].Data().([]T)
	}
	taps, plane, oplane := g.kh*g.kw, g.h*g.w, g.oh*g.ow
	nw := workersFor(st.cs.p.Workers, n)
	ws := bf.workers(nw)
	post := st.cs.post
	bk := bnKernelsFor[T]()
	clampF, _ := clampFns[T]()
	split(nw, n, func(wk, lo, hi int) {
		wb := &ws[wk]
		for i := lo; i < hi; i++ {
			wb.scatterImage(l, x[i*g.c*plane:(i+1)*g.c*plane], &kr)
			for c := 0; c < g.c; c++ {
				xph := wb.xph[c*l.ps : (c+1)*l.ps]
				for q := 0; q < mult; q++ {
					oc := c*mult + q
					var init T
					if b != nil {
						init = b[oc]
					}
					yo := y[(i*g.c*mult+oc)*oplane : (i*g.c*mult+oc+1)*oplane]
					kr.corrRows(yo, g.oh, g.ow, xph, l.wq, l.offs, w[oc*taps:(oc+1)*taps], init, false)
					if post != nil {
						// Conv2dBNEval: the batch norm on the plane just written.
						bk.affineAct(clampF, yo, yo, T(post.a[oc]), T(post.sh[oc]), post.hi)
					}
				}
			}
		}
	})
}

// dyPlane copies the output gradient plane dy (oh×ow) to pitch wq; the
// discarded columns of dyz stay 0 from its allocation.
func dyPlane[T float](l *dwLayout, dyz, dy []T, copyRow func(d, s []T)) {
	g := l.g
	if d32, ok := any(dyz).([]float32); ok && copyRowsTo32(d32, any(dy).([]float32), g.oh, g.ow, l.wq) {
		return
	}
	for oy := 0; oy < g.oh; oy++ {
		copyRow(dyz[oy*l.wq:oy*l.wq+g.ow], dy[oy*g.ow:(oy+1)*g.ow])
	}
}

func (o *dwOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	d[0] = !o.st.cs.p.NoInputGrad
	return d
}

func (o *dwOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if o.st.cs.post != nil {
		return nil, fmt.Errorf("%w: %s is an evaluation op: it has no gradient", ErrOrder, o.name)
	}
	if len(ins) != o.arity() {
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrShape, o.name, len(ins))
	}
	res := make(G.Nodes, len(ins))
	var err error
	if !o.st.cs.p.NoInputGrad {
		if res[0], err = G.ApplyOp(&dwDxOp{opBase: opBase{name: "kernels.DepthwiseConv2dDx"}, st: o.st}, ins[1], grad); err != nil {
			return nil, err
		}
	}
	if res[1], err = G.ApplyOp(&dwDwOp{opBase: opBase{name: "kernels.DepthwiseConv2dDw"}, st: o.st}, ins[0], grad); err != nil {
		return nil, err
	}
	if o.st.cs.hasBias {
		if res[2], err = G.ApplyOp(newBiasGrad(4), grad); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// dwDxOp: (w, dy) → dx, each tap's weight times dy added at the tap's
// shifted place in a phase-split gradient plane, then gathered back.
type dwDxOp struct {
	opBase
	noDiff
	st  *dwState
	out *tensor.Dense
	ownPlan
}

func (o *dwDxOp) Arity() int            { return 2 }
func (o *dwDxOp) Type() hm.Type         { return opType(4, 4, 4) }
func (o *dwDxOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *dwDxOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *dwDxOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return o.st.cs.xShape.Clone(), nil
}

func (o *dwDxOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	g, n := o.st.lay.g, o.st.cs.n
	if in[1].Shape().TotalSize() != n*o.st.cs.o*g.cols() {
		return nil, fmt.Errorf("%w: %s: dy %v does not match the forward output", ErrShape, o.name, in[1].Shape())
	}
	out := plannedOut(&o.out, o.plan, dt, n, g.c, g.h, g.w)
	if dt == tensor.Float32 {
		dwBackX(o.st, in[0].Data().([]float32), in[1].Data().([]float32), out.Data().([]float32))
	} else {
		dwBackX(o.st, in[0].Data().([]float64), in[1].Data().([]float64), out.Data().([]float64))
	}
	return out, nil
}

func dwBackX[T float](st *dwState, w, dy, dx []T) {
	bf := dwBufsFor[T](st)
	kr := dwKernelsFor[T]()
	l := &st.lay
	g, n, mult := l.g, st.cs.n, st.mult
	taps, plane, oplane, flat := g.kh*g.kw, g.h*g.w, g.oh*g.ow, l.flat()
	nw := workersFor(st.cs.p.Workers, n)
	ws := bf.workers(nw)
	split(nw, n, func(wk, lo, hi int) {
		wb := &ws[wk]
		// The gradient planes of an image's channels are gathered back in
		// one pass where the build has it (dwRows32), else one by one.
		batch := dwRowsVec[T](l)
		if l.direct {
			wb.dyp = grow(wb.dyp, l.dr*l.dp)
		} else {
			wb.dyz = grow(wb.dyz, flat)
			np := 1
			if batch {
				np = g.c
			}
			wb.dxph = grow(wb.dxph, np*l.ps)
		}
		for i := lo; i < hi; i++ {
			if !l.direct && batch {
				clear(wb.dxph)
			}
			for c := 0; c < g.c; c++ {
				ic := i*g.c + c
				dxc := dx[ic*plane : (ic+1)*plane]
				dxph := wb.dxph
				if !l.direct {
					if batch {
						dxph = wb.dxph[c*l.ps : (c+1)*l.ps]
					} else {
						clear(dxph)
					}
				}
				for q := 0; q < mult; q++ {
					oc := c*mult + q
					dyo := dy[(i*g.c*mult+oc)*oplane:]
					wo := w[oc*taps : (oc+1)*taps]
					if l.direct {
						// The margins of dyp stay 0 from its allocation.
						if d32, ok := any(wb.dyp).([]float32); !ok || !copyRowsTo32(d32[l.mt*l.dp+l.ml:], any(dyo).([]float32), g.oh, g.ow, l.dp) {
							for oy := 0; oy < g.oh; oy++ {
								kr.copyRow(wb.dyp[(oy+l.mt)*l.dp+l.ml:], dyo[oy*g.ow:(oy+1)*g.ow])
							}
						}
						kr.corrRows(dxc, g.h, g.w, wb.dyp, l.dp, l.toffs, wo, 0, q > 0)
						continue
					}
					dyPlane(l, wb.dyz, dyo, kr.copyRow)
					for t, off := range l.offs {
						kr.axpy(dxph[off:off+flat], wb.dyz, wo[t])
					}
				}
				if !l.direct && !batch {
					dwGather(l, dxc, dxph, &kr)
				}
			}
			if !l.direct && batch && !dwRows32(l, wb.dxph, dx[i*g.c*plane:(i+1)*g.c*plane], g.c, true) {
				panic("kernels: depthwise input gradient: the batched gather declined")
			}
		}
	})
}

// dwDwOp: (x, dy) → dw, each tap's weight gradient a dot product of dy with
// the tap's shifted run of the phase-split input.
type dwDwOp struct {
	opBase
	noDiff
	st  *dwState
	out *tensor.Dense
}

func (o *dwDwOp) Arity() int            { return 2 }
func (o *dwDwOp) Type() hm.Type         { return opType(4, 4, 4) }
func (o *dwDwOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *dwDwOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *dwDwOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.st.cs.o, 1, o.st.cs.kh, o.st.cs.kw}, nil
}

func (o *dwDwOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	g, n := o.st.lay.g, o.st.cs.n
	if in[1].Shape().TotalSize() != n*o.st.cs.o*g.cols() {
		return nil, fmt.Errorf("%w: %s: dy %v does not match the forward output", ErrShape, o.name, in[1].Shape())
	}
	out := reuseOut(&o.out, dt, o.st.cs.o, 1, g.kh, g.kw)
	if dt == tensor.Float32 {
		dwBackW(o.st, in[0].Data().([]float32), in[1].Data().([]float32), out.Data().([]float32))
	} else {
		dwBackW(o.st, in[0].Data().([]float64), in[1].Data().([]float64), out.Data().([]float64))
	}
	return out, nil
}

// scatterImage places an image's c planes x in wb.xph (c planes of the
// layout, allocated once, so that their padding stays 0): in one pass
// where the build has it, else plane by plane. The forward and the weight
// gradient each place an image just before they read it: the whole
// batch's planes kept from the forward (22 MB for a MobileNetV2 layer at
// batch 64) went to memory and back.
func (wb *dwWorker[T]) scatterImage(l *dwLayout, x []T, kr *dwKernels[T]) {
	g := l.g
	wb.xph = grow(wb.xph, g.c*l.ps)
	if dwRows32(l, wb.xph, x, g.c, false) {
		return
	}
	plane := g.h * g.w
	for c := 0; c < g.c; c++ {
		dwScatter(l, wb.xph[c*l.ps:(c+1)*l.ps], x[c*plane:(c+1)*plane], kr)
	}
}

func dwBackW[T float](st *dwState, x, dy, dw []T) {
	bf := dwBufsFor[T](st)
	kr := dwKernelsFor[T]()
	l := &st.lay
	g, n, mult := l.g, st.cs.n, st.mult
	taps, oplane, lanes := g.kh*g.kw, g.oh*g.ow, kr.lanes
	nw := workersFor(st.cs.p.Workers, n)
	ws := bf.workers(nw)
	split(nw, n, func(wk, lo, hi int) {
		wb := &ws[wk]
		wb.acc = grow(wb.acc, len(dw)*lanes)
		clear(wb.acc)
		plane := g.h * g.w
		for i := lo; i < hi; i++ {
			wb.scatterImage(l, x[i*g.c*plane:(i+1)*g.c*plane], &kr)
			for c := 0; c < g.c; c++ {
				xph := wb.xph[c*l.ps : (c+1)*l.ps]
				for q := 0; q < mult; q++ {
					oc := c*mult + q
					dyo := dy[(i*g.c*mult+oc)*oplane : (i*g.c*mult+oc+1)*oplane]
					kr.dotsRows(wb.acc[oc*taps*lanes:(oc+1)*taps*lanes], dyo, g.oh, g.ow, xph, l.wq, l.offs)
				}
			}
		}
		dst := dw
		if wk > 0 {
			wb.part = grow(wb.part, len(dw))
			dst = wb.part
		}
		for j := range dst {
			dst[j] = sum(wb.acc[j*lanes : (j+1)*lanes])
		}
	})
	for _, wb := range ws[1:] {
		for j, v := range wb.part[:len(dw)] {
			dw[j] += v
		}
	}
}
