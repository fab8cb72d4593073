package kernels

import (
	"fmt"
	"hash"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convState is shared by a convolution's forward op and its gradient ops.
// A strided convolution's forward keeps the batch's im2col matrices for
// the weight gradient when they fit keepColBytes; otherwise the weight
// gradient unfolds each image again into a per-worker buffer, which stays
// in cache. A stride-1 unfolding is block copies of rows, cheaper to redo
// than to write to memory and read back: LeNet-5 (12 MB of kept matrices
// at batch 64) trains 8% faster on one core unfolding twice; a strided one
// gathers, and keeping resnet20's 4.7 MB one measured ~1% faster.
// Recomputing also saves the memory (29 MB per resnet20 stage-1
// convolution at batch 64: a resnet20 QAT step's peak RSS dropped from 678
// to ~440 MB).
type convState struct {
	p       ConvParams
	xShape  tensor.Shape // at graph construction, for InferShape
	o       int          // output channels
	kh, kw  int
	hasBias bool
	// post, when not nil, is an evaluation batch norm applied to each
	// image's output (Conv2dBNEval).
	post *convPost
	// post8: post as AVX2's Winograd output transform applies it.
	post8 wino8Post
	// fold, when not nil, receives the range of each forward's output
	// (Conv2dFold).
	fold *Fold
	// handoff, when not nil, is the claimed Handoff whose batch norm's
	// output is x (Conv2dHandoff).
	handoff *Handoff

	// geometry of the last forward run
	g geom
	n int

	f32 convBufs[float32]
	f64 convBufs[float64]

	// implicit im2col (float32, shifted geometries, kernels with
	// implicitIm2col): the plans of the forward and of the input gradient
	// for geometry sg, built on first use
	sg          geom
	sFwd, sBack *shiftPlan
	// the segment plan of the forward (unpadded stride-1 convolutions
	// narrower than their input) for geometry segG
	segG geom
	seg  *segPlan
	// the plan of a stride-2 forward over phase-split planes
	// (newStride2Plan) for geometry s2G
	s2G geom
	s2  *shiftPlan

	// the direct one-channel 3×3 loops' scratch (stem.go)
	stemWs []stemWorker

	// Winograd F(2×2, 3×3) (winograd.go) and F(4×4, 3×3) (winograd4.go,
	// where wino4Use): the forward's and the input gradient's transformed
	// weights, and the workers' scratch
	wf, wb     winoConv
	wf4, wb4   wino4Conv
	wf48, wb48 wino48Conv // AVX2's F(4×4, 3×3) (winograd48.go, where wino48Use)
	ww         []winoWorker
}

// winograd reports whether this convolution's forward and gradients run by
// Winograd (F(4×4, 3×3) where wino4Use, else F(2×2, 3×3)): float32 3×3
// stride-1 undilated ungrouped
// convolutions of winoMinChannels to blockKC channels in and out (the
// products' GEMMs take A as one packed block: the forward's depth is the
// input channels, the input gradient's the output channels), padded alike
// on both axes by at most 2 (the input gradient's padding is 2 − p), on
// CPUs with the transforms' assembly.
func (s *convState) winograd(is32 bool) bool {
	g := s.g
	return is32 && winogradCPU(hostFloatKernel) && s.p.Groups == 1 &&
		g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
		g.ph == g.pw && g.ph <= 2 && g.c >= winoMinChannels && s.o >= winoMinChannels && g.oh > 0 && g.ow > 0 &&
		g.c <= blockKC && s.o <= blockKC &&
		newWinoGeom(g.c, g.h, g.w, g.ph, s.o).imageBytes() <= winoMaxImageBytes
}

// shiftPlans returns the forward and input-gradient plans of geometry g
// (one group's channels), building them when g changed.
func (s *convState) shiftPlans(g geom) (fwd, back *shiftPlan, err error) {
	if s.sFwd != nil && s.sg == g {
		return s.sFwd, s.sBack, nil
	}
	s.sFwd, s.sBack = nil, nil
	cg, og := g.c/s.p.Groups, s.o/s.p.Groups
	if fwd, err = newShiftPlan(cg, g.oh, g.ow, g.h, g.w, convShifts(g, false)); err != nil {
		return nil, nil, err
	}
	if back, err = newShiftPlan(og, g.h, g.w, g.oh, g.ow, convShifts(g, true)); err != nil {
		return nil, nil, err
	}
	s.sg, s.sFwd, s.sBack = g, fwd, back
	return fwd, back, nil
}

// implicit reports whether this convolution packs its GEMMs' B operands
// straight from the planes (shiftpack.go) for an A packed for kernel fk,
// and returns the plans.
func (s *convState) implicit(is32 bool, fk floatKernel) (fwd, back *shiftPlan, ok bool) {
	g := s.g
	if !is32 || g.identity() || !g.shifted() || !implicitIm2col(fk) {
		return nil, nil, false
	}
	fwd, back, err := s.shiftPlans(g)
	if err != nil {
		return nil, nil, false // offsets past int32: unfold as before
	}
	return fwd, back, true
}

// segmented reports whether this convolution's forward packs its B panels
// straight from the planes by a segment plan (segpack.go) for an A packed
// for kernel fk, and returns the plan.
func (s *convState) segmented(is32 bool, fk floatKernel) (*segPlan, bool) {
	g := s.g
	if !is32 || g.identity() || g.shifted() || g.sh != 1 || g.sw != 1 || g.ph != 0 || g.pw != 0 || !segIm2col(fk) {
		return nil, false
	}
	if s.seg == nil || s.segG != g {
		p, err := newSegPlan(g.c/s.p.Groups, g.h, g.w, g.kh, g.kw, g.dh, g.dw)
		if err != nil || p.n != g.cols() {
			return nil, false // offsets past int32: unfold as before
		}
		s.seg, s.segG = p, g
	}
	return s.seg, true
}

// stride2 reports whether this convolution's forward packs its B panels
// from x's phase-split planes (newStride2Plan: 3×3 padded by 1, stride 2,
// even planes, one group; phaseSplit's row loops) for an A packed for
// kernel fk, and returns the
// plan. (A 1×1 projection reads one phase of four: its im2col, which
// copies just that one, measured faster.)
func (s *convState) stride2(is32 bool, fk floatKernel) (*shiftPlan, bool) {
	g := s.g
	if !is32 || !implicitIm2col(fk) || !useRows32 || s.p.Groups != 1 || g.sh != 2 || g.sw != 2 || g.dh != 1 || g.dw != 1 ||
		g.h%2 != 0 || g.w%2 != 0 || g.oh != g.h/2 || g.ow != g.w/2 || g.kh != 3 || g.kw != 3 || g.ph != 1 || g.pw != 1 {
		return nil, false
	}
	if s.s2 == nil || s.s2G != g {
		p, err := newStride2Plan(g.c, g.kh, g.ph, g.oh, g.ow)
		if err != nil {
			return nil, false // offsets past int32: unfold as before
		}
		s.s2, s.s2G = p, g
	}
	return s.s2, true
}

// keepColBytes bounds the im2col matrices a convolution keeps from its
// forward for its weight gradient (see convState).
const keepColBytes = 8 << 20

type convBufs[T float] struct {
	col  []T // the batch's im2col matrices when kept (n × rows × cols), else unused
	keep bool
	fwd  []mulT[T] // one packed weight matrix per group
	// fwdFrom: the weights fwd was packed from (convForward repacks only
	// when they change)
	fwdFrom []T
	dx      []mulT[T]
	w       []convWorker[T]
	wT      []T // a group's weights as (C/G) × (O/G·kh·kw), the implicit input gradient's A
}

// perGroup returns m resized to one multiplier per group.
func perGroup[T float](m []mulT[T], groups int) []mulT[T] {
	if len(m) < groups {
		m = append(m, make([]mulT[T], groups-len(m))...)
	}
	return m[:groups]
}

// convWorker is what each goroutine of a convolution owns.
type convWorker[T float] struct {
	g    Gemm
	col  []T // one image's im2col matrix, rows × cols
	dcol []T // rows × cols
	dw   mulT[T]
	part []T // this worker's share of dW (worker 0 writes dW itself)
}

func (b *convBufs[T]) workers(nw int) []convWorker[T] {
	if len(b.w) < nw {
		b.w = append(b.w, make([]convWorker[T], nw-len(b.w))...)
	}
	return b.w[:nw]
}

func convBufsFor[T float](s *convState) *convBufs[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&s.f32).(*convBufs[T])
	}
	return any(&s.f64).(*convBufs[T])
}

// geomFor checks x (N,C,H,W) against the weights (O,C/groups,kh,kw) and
// returns the geometry of the whole image (all C channels).
func (s *convState) geomFor(name string, xs, ws tensor.Shape) (geom, error) {
	if len(xs) != 4 || len(ws) != 4 {
		return geom{}, fmt.Errorf("%w: %s: x %v and w %v must both be 4-D (NCHW, OIHW)", ErrShape, name, xs, ws)
	}
	p := s.p
	if gr := p.Groups; gr < 1 || xs[1]%gr != 0 || ws[0]%gr != 0 {
		return geom{}, fmt.Errorf("%w: %s: %d groups do not divide %d input and %d output channels", ErrShape, name, gr, xs[1], ws[0])
	}
	if xs[1] != ws[1]*p.Groups {
		return geom{}, fmt.Errorf("%w: %s: x has %d channels, w expects %d×%d groups", ErrShape, name, xs[1], ws[1], p.Groups)
	}
	g := geom{c: xs[1], h: xs[2], w: xs[3], kh: ws[2], kw: ws[3],
		sh: p.Stride[0], sw: p.Stride[1], ph: p.Pad[0], pw: p.Pad[1], dh: p.Dilation[0], dw: p.Dilation[1]}
	if g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || g.ph < 0 || g.pw < 0 || g.kh < 1 || g.kw < 1 {
		return geom{}, fmt.Errorf("%w: %s: bad parameters %+v with kernel %dx%d", ErrShape, name, p, g.kh, g.kw)
	}
	g.oh = outSize(g.h, g.kh, g.sh, g.ph, g.dh)
	g.ow = outSize(g.w, g.kw, g.sw, g.pw, g.dw)
	if g.oh < 1 || g.ow < 1 {
		return geom{}, fmt.Errorf("%w: %s: input %dx%d too small for kernel %dx%d with %+v", ErrShape, name, g.h, g.w, g.kh, g.kw, p)
	}
	return g, nil
}

// Conv2d returns the cross-correlation of x (N,C,H,W) with w (O,C/G,kh,kw)
// plus b (O) if b is not nil, as PyTorch's conv2d with G = p.Groups: output
// (N,O,Ho,Wo) in NCHW, where output channel o sees only the input channels of
// its group, [g·C/G, (g+1)·C/G) with g = o/(O/G). Ho = ⌊(H + 2·pad −
// dil·(kh−1) − 1)/stride⌋ + 1, likewise Wo. x, w and b must share a dtype,
// Float32 or Float64.
//
// A depthwise convolution (G = C > 1, so w is (C·m,1,kh,kw) with channel
// multiplier m; output channel o reads input channel o/m) runs a direct
// kernel; other group counts run one GEMM per group on the dense path's
// unfolded input.
func Conv2d(x, w, b *G.Node, p ConvParams) (*G.Node, error) {
	return conv2d(x, w, b, p, true)
}

// conv2d is Conv2d; direct = false runs a depthwise convolution on the GEMM
// path too (the reference of tests and benchmarks).
func conv2d(x, w, b *G.Node, p ConvParams, direct bool) (*G.Node, error) {
	return convNode("Conv2d", x, w, b, p, direct, convExtra{})
}

// convExtra is what Conv2dBNEval and Conv2dFold add to a convolution op:
// the evaluation batch norm with its inputs (γ, β and, when scaled, the
// divisor), or the fold that receives the output's range.
type convExtra struct {
	post    *convPost
	postIn  []*G.Node
	fold    *Fold
	handoff *Handoff // Conv2dHandoff's
}

// vecs is how many of postIn are per-channel vectors.
func (ex convExtra) vecs() int {
	if ex.post == nil {
		return 0
	}
	return ex.post.vecArity()
}

// convNode checks a convolution's operands and builds its op, named name
// in errors and in the graph: the depthwise op where direct and w is
// depthwise, else the GEMM one.
func convNode(name string, x, w, b *G.Node, p ConvParams, direct bool, ex convExtra) (*G.Node, error) {
	p = p.norm()
	st := &convState{p: p, xShape: x.Shape(), hasBias: b != nil, post: ex.post, fold: ex.fold}
	ws := w.Shape()
	g, err := st.geomFor(name, st.xShape, ws)
	if err != nil {
		return nil, err
	}
	st.o, st.kh, st.kw = ws[0], ws[2], ws[3]
	children := []*G.Node{x, w}
	if b != nil {
		if bs := b.Shape(); len(bs) != 1 || bs[0] != st.o {
			return nil, fmt.Errorf("%w: %s: bias %v, want (%d)", ErrShape, name, bs, st.o)
		}
		children = append(children, b)
	}
	for _, c := range ex.postIn[:ex.vecs()] {
		if c.Dims() != 1 || c.Shape().TotalSize() != st.o {
			return nil, fmt.Errorf("%w: %s: %v is %v for %d channels", ErrShape, name, c.Name(), c.Shape(), st.o)
		}
	}
	for _, c := range append(append([]*G.Node(nil), children[1:]...), ex.postIn...) {
		if c.Dtype() != x.Dtype() {
			return nil, fmt.Errorf("%w: %s: x is %v but %v is %v", ErrDtype, name, x.Dtype(), c.Name(), c.Dtype())
		}
	}
	if ex.post != nil {
		if err := statsCheck(name, ex.post.stats, st.o, x.Dtype()); err != nil {
			return nil, err
		}
		if ex.post.res {
			r := ex.postIn[len(ex.postIn)-1]
			if want := (tensor.Shape{st.xShape[0], st.o, g.oh, g.ow}); !r.Shape().Eq(want) {
				return nil, fmt.Errorf("%w: %s: residual %v for output %v", ErrShape, name, r.Shape(), want)
			}
		}
	}
	if direct && p.Groups > 1 && ws[1] == 1 {
		if ex.fold != nil {
			return nil, fmt.Errorf("%w: %s: a depthwise convolution does not fold", ErrShape, name)
		}
		return depthwise(x, w, b, st, ex.postIn...)
	}
	if h := ex.handoff; h != nil && h.claim(st, g) {
		st.handoff = h
	}
	return G.ApplyOp(&convOp{opBase: opBase{name: "kernels." + name}, st: st}, append(children, ex.postIn...)...)
}

// Conv2dFold is Conv2d whose output feeds a folded fake quantizer through f
// (see Fold): each forward run records its output's min and max, scanned
// image by image while in cache, for the quantizer's observer. It applies
// no mask (its output is not clamped): the max pool after the quantizer
// does (MaxPool2dFold), or the quantizer itself. Float32; not depthwise.
func Conv2dFold(x, w, b *G.Node, p ConvParams, f *Fold) (*G.Node, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: Conv2dFold: nil fold", ErrShape)
	}
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: Conv2dFold: x is %v, a fold needs float32", ErrDtype, x.Dtype())
	}
	return convNode("Conv2dFold", x, w, b, p, true, convExtra{fold: f})
}

// Conv2dBNEval is Conv2d of x and w (plus b when not nil) followed by the
// evaluation-mode batch norm with running statistics s, γ and β — what
// BatchNormAct(y, gamma, beta, scale, s, false, hi) computes: y divided per
// channel by scale when scale is not nil, then clamped to [0, hi] when
// hi > 0 — applied to each image's output right after its GEMM, while it is
// in cache, instead of in a second pass over the whole output from memory.
// The same bits as the two ops in sequence, on the GEMM and the depthwise
// paths. It is an evaluation graph's op: it has no gradient.
func Conv2dBNEval(x, w, b, gamma, beta, scale *G.Node, p ConvParams, s *BNStats, hi float64) (*G.Node, error) {
	return convBNEval("Conv2dBNEval", x, w, b, gamma, beta, scale, nil, p, s, hi)
}

// Conv2dBNAddEval is Conv2dBNEval without activation followed by the
// residual sum with r (a tensor of the output's shape) and its activation:
// what AddAct (hi > 0) or Add (hi = 0) of Conv2dBNEval(…, 0) and r
// computes, the same bits, applied to each image's output while it is in
// cache instead of in a pass over both tensors from memory (a ResNet
// block's second convolution with its shortcut). Not depthwise; it is an
// evaluation graph's op: it has no gradient.
func Conv2dBNAddEval(x, w, b, gamma, beta, scale, r *G.Node, p ConvParams, s *BNStats, hi float64) (*G.Node, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: Conv2dBNAddEval: nil residual", ErrShape)
	}
	return convBNEval("Conv2dBNAddEval", x, w, b, gamma, beta, scale, r, p, s, hi)
}

// convBNEval builds Conv2dBNEval (r nil) or Conv2dBNAddEval.
func convBNEval(name string, x, w, b, gamma, beta, scale, r *G.Node, p ConvParams, s *BNStats, hi float64) (*G.Node, error) {
	if !(hi >= 0) {
		return nil, fmt.Errorf("%w: %s: clamp bound %v", ErrShape, name, hi)
	}
	ex := convExtra{post: &convPost{stats: s, hi: hi, scaled: scale != nil, res: r != nil}, postIn: []*G.Node{gamma, beta}}
	if scale != nil {
		ex.postIn = append(ex.postIn, scale)
	}
	if r != nil {
		if p.norm().Groups > 1 {
			return nil, fmt.Errorf("%w: %s: a grouped convolution takes no residual", ErrShape, name)
		}
		if r.Dtype() != x.Dtype() {
			return nil, fmt.Errorf("%w: %s: x is %v but the residual is %v", ErrDtype, name, x.Dtype(), r.Dtype())
		}
		ex.postIn = append(ex.postIn, r)
	}
	return convNode(name, x, w, b, p, true, ex)
}

// convPost is Conv2dBNEval's batch norm: per channel y·a + sh (a and sh
// as bnForward computes them from the running statistics), then the clamp;
// with res (Conv2dBNAddEval), the residual sum before the clamp.
type convPost struct {
	stats  *BNStats
	hi     float64
	scaled bool
	res    bool      // the op's last input is a residual addend
	a, sh  []float64 // of the current run
	// a and sh as float32, for an output transform that applies them
	a32, sh32 []float32
}

func (p *convPost) arity() int {
	n := 2
	if p.scaled {
		n++
	}
	if p.res {
		n++
	}
	return n
}

// vecArity is how many of the post's inputs are per-channel vectors (γ, β
// and the divisor; the residual is a whole tensor).
func (p *convPost) vecArity() int {
	if p.res {
		return p.arity() - 1
	}
	return p.arity()
}

// set computes a and sh from γ, β and scale (in[0:]) exactly as bnForward
// does without batch statistics.
func (p *convPost) set(in []*tensor.Dense) {
	c := in[0].Shape().TotalSize()
	p.a, p.sh = grow(p.a, c), grow(p.sh, c)
	// Each tensor's data fetched once: Data per value was 4% of a
	// batch-16 evaluation of resnet20.
	type vals struct {
		f32 []float32
		f64 []float64
	}
	of := func(t *tensor.Dense) vals {
		if d, ok := t.Data().([]float32); ok {
			return vals{f32: d}
		}
		return vals{f64: t.Data().([]float64)}
	}
	at := func(v vals, j int) float64 {
		if v.f32 != nil {
			return float64(v.f32[j])
		}
		return v.f64[j]
	}
	gamma, beta, mean, vr := of(in[0]), of(in[1]), of(p.stats.Mean), of(p.stats.Var)
	var scale vals
	if p.scaled {
		scale = of(in[2])
	}
	for j := range c {
		sc := 1.0
		if p.scaled {
			sc = at(scale, j)
		}
		istd := 1 / math.Sqrt(at(vr, j)+p.stats.Eps)
		p.a[j], p.sh[j] = bnAffine(at(mean, j), istd, at(gamma, j), at(beta, j), sc)
	}
	p.a32, p.sh32 = grow(p.a32, c), grow(p.sh32, c)
	for j := range c {
		p.a32[j], p.sh32[j] = float32(p.a[j]), float32(p.sh[j])
	}
}

type convOp struct {
	opBase
	st  *convState
	out *tensor.Dense
}

func (o *convOp) arity() int {
	n := 2
	if o.st.hasBias {
		n = 3
	}
	if o.st.post != nil {
		n += o.st.post.arity()
	}
	return n
}
func (o *convOp) Arity() int { return o.arity() }
func (o *convOp) Type() hm.Type {
	in := []int{4, 4}
	if o.st.hasBias {
		in = append(in, 1)
	}
	if o.st.post != nil {
		for range o.st.post.vecArity() {
			in = append(in, 1)
		}
		if o.st.post.res {
			in = append(in, 4)
		}
	}
	return opType(4, in...)
}
func (o *convOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *convOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }

func (o *convOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, o.arity())
	if err != nil {
		return nil, err
	}
	g, err := o.st.geomFor(o.name, s[0], s[1])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][0], s[1][0], g.oh, g.ow}, nil
}

func (o *convOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, o.arity())
	if err != nil {
		return nil, err
	}
	xs, ws := in[0].Shape(), in[1].Shape()
	g, err := o.st.geomFor(o.name, xs, ws)
	if err != nil {
		return nil, err
	}
	if o.st.hasBias && (in[2].Shape().TotalSize() != ws[0]) {
		return nil, fmt.Errorf("%w: %s: bias %v for %d channels", ErrShape, o.name, in[2].Shape(), ws[0])
	}
	o.st.g, o.st.n = g, xs[0]
	if f := o.st.fold; f != nil {
		if dt != tensor.Float32 {
			return nil, fmt.Errorf("%w: %s: a fold needs float32, x is %v", ErrDtype, o.name, dt)
		}
		f.gen++
	}
	if p := o.st.post; p != nil {
		base := o.arity() - p.arity()
		for _, t := range in[base : base+p.vecArity()] {
			if t.Shape().TotalSize() != ws[0] {
				return nil, fmt.Errorf("%w: %s: batch-norm parameter %v for %d channels", ErrShape, o.name, t.Shape(), ws[0])
			}
		}
		if p.res {
			if want := (tensor.Shape{xs[0], ws[0], g.oh, g.ow}); !in[len(in)-1].Shape().Eq(want) {
				return nil, fmt.Errorf("%w: %s: residual %v for output %v", ErrShape, o.name, in[len(in)-1].Shape(), want)
			}
		}
		p.set(in[base:])
	}
	out := reuseOut(&o.out, dt, xs[0], ws[0], g.oh, g.ow)
	if dt == tensor.Float32 {
		convForward(o.st, in, out.Data().([]float32))
	} else {
		convForward(o.st, in, out.Data().([]float64))
	}
	return out, nil
}

func convForward[T float](st *convState, in []*tensor.Dense, y []T) {
	bf := convBufsFor[T](st)
	g, n := st.g, st.n
	x, w := in[0].Data().([]T), in[1].Data().([]T)
	var b []T
	if st.hasBias {
		b = in[2].Data().([]T)
	}
	groups := st.p.Groups
	o := st.o
	rows, cols := g.rows(), g.cols()
	og, rg := o/groups, rows/groups // per group: output channels, rows of col
	// A 1×1, stride-1, unpadded convolution's unfolded image is the image
	// itself: its GEMMs read x directly.
	ident := g.identity()
	bf.fwd = perGroup(bf.fwd, groups)
	// An evaluation graph brings the same weights batch after batch: their
	// packing is kept (at batch 16 packing was 4% of resnet20's time).
	// (float32 only: the float64 path multiplies from the slice setA keeps)
	if _, is32 := any(w).([]float32); !is32 || !sameBits(bf.fwdFrom, w) {
		for gi := range bf.fwd {
			bf.fwd[gi].setA(false, og, rg, w[gi*og*rg:(gi+1)*og*rg], rg)
		}
		if is32 {
			bf.fwdFrom = append(bf.fwdFrom[:0], w...)
		}
	}
	// An implicit GEMM packs x's planes directly; its weight gradient
	// unfolds each image again (as for a col too large to keep: the same
	// work, one unfolding per pass).
	plan, _, implicit := st.implicit(bf.fwd[0].is32, bf.fwd[0].pa.kern)
	seg, segmented := st.segmented(bf.fwd[0].is32, bf.fwd[0].pa.kern)
	// A stride-2 one packs its phase-split planes; its weight gradient
	// unfolds each image.
	s2, phased := st.stride2(bf.fwd[0].is32, bf.fwd[0].pa.kern)
	post := st.post
	var rng func(w int, y []T)
	if f := st.fold; f != nil {
		f.resetAcc(workersFor(st.p.Workers, n))
		rng = func(w int, y []T) { f.acc[w].Add(any(y).([]float32)) }
	}
	kr := bnKernelsFor[T]()
	clampF, _ := clampFns[T]()
	var z T
	// (an evaluation op has no weight gradient to keep them for)
	bf.keep = post == nil && !ident && !implicit && !phased && (g.sh > 1 || g.sw > 1) && n*rows*cols*int(unsafe.Sizeof(z)) <= keepColBytes
	if bf.keep {
		bf.col = grow(bf.col, n*rows*cols)
	}
	cgPlane := g.c / groups * g.h * g.w
	nw := workersFor(st.p.Workers, n)
	ws := bf.workers(nw)
	// The residual addend of Conv2dBNAddEval.
	var res []T
	if post != nil && post.res {
		res = in[len(in)-1].Data().([]T)
	}
	// The F(4×4) output transform (and AVX2's F(2×2) one) applies the
	// batch norm itself (by the per-plane kernels' FMAs and clamp: the
	// same bits), saving the pass over the output (6.6% of resnet20's
	// inference).
	var inTransform *outPost
	resDone := false // and the residual sum
	// finish applies an evaluation graph's batch norm, residual sum and
	// clamp to image i's output yi and tracks a fold's range, while it is
	// in cache.
	finish := func(wk, i int, yi []T) {
		if post != nil {
			hi := post.hi
			if res != nil {
				hi = 0 // the clamp is the sum's
			}
			if inTransform == nil {
				for c := range o {
					plane := yi[c*cols : (c+1)*cols]
					kr.affineAct(clampF, plane, plane, T(post.a[c]), T(post.sh[c]), hi)
				}
			}
			if res != nil && !resDone {
				addActTo(yi, yi, res[i*o*cols:(i+1)*o*cols], post.hi)
			}
		}
		if rng != nil {
			rng(wk, yi)
		}
	}
	if st.stem(bf.fwd[0].is32) {
		var b32 []float32
		if b != nil {
			b32 = any(b).([]float32)
		}
		st.stemForward(any(x).([]float32), any(w).([]float32), b32, any(y).([]float32), n, nw, func(wk, i int, yi []float32) { finish(wk, i, any(yi).([]T)) })
		if st.fold != nil {
			st.fold.setRange()
		}
		return
	}
	wino := st.winograd(bf.fwd[0].is32)
	// x32: the planes the Winograd path reads, with xmap: x computed from
	// a batch norm's input (Handoff)
	var x32 []float32
	var xmap *inMap
	if xf, ok := any(x).([]float32); ok {
		x32, xmap = st.handoff.input(xf, wino)
	}
	if wino {
		var b32 []float32
		if b != nil {
			b32 = any(b).([]float32)
		}
		wg := newWinoGeom(g.c, g.h, g.w, g.ph, o)
		done := func(wk, i int, yi []float32) { finish(wk, i, any(yi).([]T)) }
		if wino4Use(hostFloatKernel, wg) {
			g4 := newWino4Geom(g.c, g.h, g.w, g.ph, o)
			if _, vec := vecBnKernels(); post != nil && vec {
				inTransform = &outPost{a: post.a32, sh: post.sh32}
				switch {
				case res != nil && g4.rows:
					// the residual sum too, while the outputs are in registers
					inTransform.res, inTransform.hi = any(res).([]float32), float32(post.hi)
					resDone = true
				case res == nil:
					inTransform.hi = float32(post.hi)
				}
			}
			st.wf4.setWeights(any(w).([]float32), o, g.c, false, nw)
			st.wf4.run(hostFloatKernel, g4, winoWorkers(st.winoScratch(), nw), false, false, x32, xmap, any(y).([]float32), b32, inTransform, n, done)
		} else if wino48Use(hostFloatKernel, wg) {
			// the batch norm in the output transform, as F(2×2)'s on AVX2
			var post8 *wino8Post
			if _, vec := vecBnKernels(); post != nil && vec {
				hi := post.hi
				if res != nil {
					hi = 0 // the residual sum's clamp, after it
				}
				st.post8.set(b32, post.a32, post.sh32, float32(hi), hi > 0)
				post8 = &st.post8
				inTransform = &outPost{a: post.a32, sh: post.sh32}
			}
			st.wf48.setWeights(any(w).([]float32), o, g.c, false, nw)
			st.wf48.run(hostFloatKernel, newWino48Geom(g.c, g.h, g.w, g.ph, o), winoWorkers(st.winoScratch(), nw), false, false, x32, xmap, any(y).([]float32), b32, post8, n, done)
		} else {
			// AVX2's output transform applies the batch norm (and its
			// clamp where no residual sum follows) in registers too: the
			// pass after it had cost 3–4% of resnet20's inference.
			st.wf.post8 = nil
			if _, vec := vecBnKernels(); post != nil && vec && winogradCPU(hostFloatKernel) && !wino512(hostFloatKernel) {
				hi := post.hi
				if res != nil {
					hi = 0 // the residual sum's clamp, after it
				}
				st.post8.set(b32, post.a32, post.sh32, float32(hi), hi > 0)
				st.wf.post8 = &st.post8
				inTransform = &outPost{a: post.a32, sh: post.sh32}
			}
			st.wf.setWeights(any(w).([]float32), o, g.c, false, nw)
			st.wf.run(hostFloatKernel, wg, winoWorkers(st.winoScratch(), nw), false, x32, xmap, any(y).([]float32), b32, n, done)
			st.wf.post8 = nil
		}
		if st.fold != nil {
			st.fold.setRange()
		}
		return
	}
	gb := 1
	if ident {
		gb = identBatch(cols)
	}
	split(nw, n, func(wk, lo, hi int) {
		if gb > 1 {
			// Several images' planes side by side in one GEMM.
			cw := &ws[wk]
			for i0 := lo; i0 < hi; i0 += gb {
				k := min(gb, hi-i0)
				wc := k * cols
				cw.col, cw.dcol = grow(cw.col, rows*wc), grow(cw.dcol, o*wc)
				gatherPlanes(cw.col, x[i0*rows*cols:], rows, cols, k)
				var beta T
				if b != nil {
					for c, bv := range b {
						fill(cw.dcol[c*wc:(c+1)*wc], bv)
					}
					beta = 1
				}
				for gi := range bf.fwd {
					bf.fwd[gi].mulAWith(&cw.g, cw.dcol[gi*og*wc:], wc, false, wc, cw.col[gi*rg*wc:], wc, beta)
				}
				scatterPlanes(y[i0*o*cols:], cw.dcol, o, cols, k)
				for i := i0; i < i0+k; i++ {
					finish(wk, i, y[i*o*cols:(i+1)*o*cols])
				}
			}
			return
		}
		for i := lo; i < hi; i++ {
			xi := x[i*g.c*g.h*g.w : (i+1)*g.c*g.h*g.w]
			col := xi
			switch {
			case implicit, segmented:
			case phased:
				ws[wk].col = grow(ws[wk].col, len(xi))
				col = ws[wk].col
				phaseSplit(any(col).([]float32), any(xi).([]float32), g.c, g.h, g.w)
			case bf.keep:
				col = bf.col[i*rows*cols : (i+1)*rows*cols]
				im2col(col, xi, g)
			case !ident:
				ws[wk].col = grow(ws[wk].col, rows*cols)
				col = ws[wk].col
				im2col(col, xi, g)
			}
			yi := y[i*o*cols : (i+1)*o*cols]
			var beta T
			if b != nil {
				// The bias is the GEMM's initial C: no separate broadcast pass.
				for c, bv := range b {
					fill(yi[c*cols:(c+1)*cols], bv)
				}
				beta = 1
			}
			// Group gi's rows of col are the contiguous block of its input
			// channels, its outputs the contiguous block of its channels.
			for gi := range bf.fwd {
				if implicit {
					bf.fwd[gi].mulAShift(&ws[wk].g, yi[gi*og*cols:], cols, xi[gi*cgPlane:], plan, beta)
					continue
				}
				if phased {
					bf.fwd[gi].mulAShift(&ws[wk].g, yi, cols, col, s2, beta)
					continue
				}
				if segmented {
					bf.fwd[gi].mulASeg(&ws[wk].g, yi[gi*og*cols:], cols, xi[gi*cgPlane:], seg, beta)
					continue
				}
				bf.fwd[gi].mulAWith(&ws[wk].g, yi[gi*og*cols:], cols, false, cols, col[gi*rg*cols:], cols, beta)
			}
			finish(wk, i, yi)
		}
	})
	if st.fold != nil {
		st.fold.setRange()
	}
}

func (o *convOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	d[0] = !o.st.p.NoInputGrad
	return d
}

func (o *convOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if o.st.post != nil {
		return nil, fmt.Errorf("%w: %s is an evaluation op: it has no gradient", ErrOrder, o.name)
	}
	if len(ins) != o.arity() {
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrShape, o.name, len(ins))
	}
	res := make(G.Nodes, len(ins))
	var err error
	if !o.st.p.NoInputGrad {
		if res[0], err = G.ApplyOp(&convDxOp{opBase: opBase{name: "kernels.Conv2dDx"}, st: o.st}, ins[1], grad); err != nil {
			return nil, err
		}
	}
	if res[1], err = G.ApplyOp(&convDwOp{opBase: opBase{name: "kernels.Conv2dDw"}, st: o.st}, ins[0], grad); err != nil {
		return nil, err
	}
	if o.st.hasBias {
		if res[2], err = G.ApplyOp(newBiasGrad(4), grad); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// convDxOp: (w, dy) → dx, by dcol = Wᵀ·dy per image and col2im.
type convDxOp struct {
	opBase
	noDiff
	st  *convState
	out *tensor.Dense
	ownPlan
}

func (o *convDxOp) Arity() int            { return 2 }
func (o *convDxOp) Type() hm.Type         { return opType(4, 4, 4) }
func (o *convDxOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *convDxOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *convDxOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return o.st.xShape.Clone(), nil
}

func (o *convDxOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	g, n := o.st.g, o.st.n
	if in[1].Shape().TotalSize() != n*o.st.o*g.cols() {
		return nil, fmt.Errorf("%w: %s: dy %v does not match the forward output", ErrShape, o.name, in[1].Shape())
	}
	out := plannedOut(&o.out, o.plan, dt, n, g.c, g.h, g.w)
	if dt == tensor.Float32 {
		convBackX(o.st, in[0].Data().([]float32), in[1].Data().([]float32), out.Data().([]float32))
	} else {
		convBackX(o.st, in[0].Data().([]float64), in[1].Data().([]float64), out.Data().([]float64))
	}
	return out, nil
}

func convBackX[T float](st *convState, w, dy, dx []T) {
	bf := convBufsFor[T](st)
	g, n, oc := st.g, st.n, st.o
	groups := st.p.Groups
	rows, cols := g.rows(), g.cols()
	og, rg := oc/groups, rows/groups
	bf.dx = perGroup(bf.dx, groups)
	img := g.c * g.h * g.w
	nw := workersFor(st.p.Workers, n)
	ws := bf.workers(nw)
	if _, is32 := any(w).([]float32); st.winograd(is32) {
		// dx is the convolution of dy, padded by 2 − p, with each kernel
		// turned half round and the channels' roles swapped.
		wg := newWinoGeom(oc, g.oh, g.ow, 2-g.ph, g.c)
		if wino4Use(hostFloatKernel, wg) {
			st.wb4.setWeights(any(w).([]float32), oc, g.c, true, nw)
			st.wb4.run(hostFloatKernel, newWino4Geom(oc, g.oh, g.ow, 2-g.ph, g.c), winoWorkers(st.winoScratch(), nw), true, false, any(dy).([]float32), nil, any(dx).([]float32), nil, nil, n, nil)
			return
		}
		if wino48Use(hostFloatKernel, wg) {
			st.wb48.setWeights(any(w).([]float32), oc, g.c, true, nw)
			st.wb48.run(hostFloatKernel, newWino48Geom(oc, g.oh, g.ow, 2-g.ph, g.c), winoWorkers(st.winoScratch(), nw), true, false, any(dy).([]float32), nil, any(dx).([]float32), nil, nil, n, nil)
			return
		}
		st.wb.setWeights(any(w).([]float32), oc, g.c, true, nw)
		st.wb.run(hostFloatKernel, wg, winoWorkers(st.winoScratch(), nw), true, any(dy).([]float32), nil, any(dx).([]float32), nil, n, nil)
		return
	}
	if convBackXImplicit(st, bf, w, dy, dx) {
		return
	}
	for gi := range bf.dx {
		bf.dx[gi].setA(true, rg, og, w[gi*og*rg:(gi+1)*og*rg], rg)
	}
	ident := g.identity()
	split(nw, n, func(wk, lo, hi int) {
		cw := &ws[wk]
		if gb := identBatch(cols); ident && gb > 1 {
			// col2im is the identity; several images' planes side by side
			// in one GEMM, as in the forward.
			for i0 := lo; i0 < hi; i0 += gb {
				k := min(gb, hi-i0)
				wc := k * cols
				cw.col, cw.dcol = grow(cw.col, rows*wc), grow(cw.dcol, oc*wc)
				gatherPlanes(cw.dcol, dy[i0*oc*cols:], oc, cols, k)
				for gi := range bf.dx {
					bf.dx[gi].mulAWith(&cw.g, cw.col[gi*rg*wc:], wc, false, wc, cw.dcol[gi*og*wc:], wc, 0)
				}
				scatterPlanes(dx[i0*img:], cw.col, rows, cols, k)
			}
			return
		}
		if ident {
			// col2im is the identity: the GEMMs write dx.
			for i := lo; i < hi; i++ {
				dyi, dxi := dy[i*oc*cols:(i+1)*oc*cols], dx[i*img:(i+1)*img]
				for gi := range bf.dx {
					bf.dx[gi].mulAWith(&cw.g, dxi[gi*rg*cols:], cols, false, cols, dyi[gi*og*cols:], cols, 0)
				}
			}
			return
		}
		cw.dcol = grow(cw.dcol, rows*cols)
		clear(dx[lo*img : hi*img])
		for i := lo; i < hi; i++ {
			dyi := dy[i*oc*cols : (i+1)*oc*cols]
			for gi := range bf.dx {
				bf.dx[gi].mulAWith(&cw.g, cw.dcol[gi*rg*cols:], cols, false, cols, dyi[gi*og*cols:], cols, 0)
			}
			col2im(dx[i*img:(i+1)*img], cw.dcol, g)
		}
	})
}

// convBackXImplicit computes dx as one GEMM per image and group, dx =
// W'·B with W'[c][(o,tap)] = W[o][c][tap] and B the implicit matrix of dy's
// planes shifted back by each tap (shiftpack.go), when this convolution
// packs implicitly; false (nothing done) otherwise.
func convBackXImplicit[T float](st *convState, bf *convBufs[T], w, dy, dx []T) bool {
	g, n, oc := st.g, st.n, st.o
	groups := st.p.Groups
	cg, og, taps := g.c/groups, oc/groups, g.kh*g.kw
	// setA packs for the host's kernel (mulT's Gemm is the zero value).
	_, is32 := any(w).([]float32)
	_, plan, ok := st.implicit(is32, hostFloatKernel)
	if !ok {
		return false
	}
	bf.wT = grow(bf.wT, cg*og*taps)
	for gi := range bf.dx {
		wg := w[gi*og*cg*taps : (gi+1)*og*cg*taps]
		for o := 0; o < og; o++ {
			for c := 0; c < cg; c++ {
				copy(bf.wT[c*og*taps+o*taps:c*og*taps+(o+1)*taps], wg[(o*cg+c)*taps:(o*cg+c+1)*taps])
			}
		}
		bf.dx[gi].setA(false, cg, og*taps, bf.wT, og*taps)
		if !implicitIm2col(bf.dx[gi].pa.kern) {
			panic("kernels: conv input gradient: A packed for a kernel without implicit packing")
		}
	}
	img, cols, hw := g.c*g.h*g.w, g.cols(), g.h*g.w
	ws := bf.workers(workersFor(st.p.Workers, n))
	split(len(ws), n, func(wk, lo, hi int) {
		cw := &ws[wk]
		for i := lo; i < hi; i++ {
			dyi, dxi := dy[i*oc*cols:(i+1)*oc*cols], dx[i*img:(i+1)*img]
			for gi := range bf.dx {
				bf.dx[gi].mulAShift(&cw.g, dxi[gi*cg*hw:], hw, dyi[gi*og*cols:], plan, 0)
			}
		}
	})
	return true
}

// convDwOp: (x, dy) → dw = Σ_images dy·colᵀ, with the forward's col when
// kept, else each image unfolded again.
type convDwOp struct {
	opBase
	noDiff
	st  *convState
	out *tensor.Dense
}

func (o *convDwOp) Arity() int            { return 2 }
func (o *convDwOp) Type() hm.Type         { return opType(4, 4, 4) }
func (o *convDwOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *convDwOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *convDwOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.st.o, o.st.xShape[1] / o.st.p.Groups, o.st.kh, o.st.kw}, nil
}

func (o *convDwOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	g, n := o.st.g, o.st.n
	if in[1].Shape().TotalSize() != n*o.st.o*g.cols() {
		return nil, fmt.Errorf("%w: %s: dy %v does not match the forward output", ErrShape, o.name, in[1].Shape())
	}
	out := reuseOut(&o.out, dt, o.st.o, g.c/o.st.p.Groups, g.kh, g.kw)
	if dt == tensor.Float32 {
		convBackW(o.st, in[0].Data().([]float32), in[1].Data().([]float32), out.Data().([]float32))
	} else {
		convBackW(o.st, in[0].Data().([]float64), in[1].Data().([]float64), out.Data().([]float64))
	}
	return out, nil
}

func convBackW[T float](st *convState, x, dy, dw []T) {
	bf := convBufsFor[T](st)
	g, n, oc := st.g, st.n, st.o
	x32, is32 := any(x).([]float32)
	if st.stem(is32) {
		st.stemBackW(x32, any(dy).([]float32), any(dw).([]float32), n, workersFor(st.p.Workers, n))
		return
	}
	wino := st.winograd(is32)
	var in *inMap // x computed from a batch norm's input (Handoff)
	if is32 {
		x32, in = st.handoff.input(x32, wino)
	}
	if wino {
		wg := newWinoGeom(g.c, g.h, g.w, g.ph, oc)
		ws := winoWorkers(st.winoScratch(), workersFor(st.p.Workers, n))
		if wino4Use(hostFloatKernel, wg) {
			wino4RunW(hostFloatKernel, newWino4Geom(g.c, g.h, g.w, g.ph, oc), ws, false, x32, in, any(dy).([]float32), any(dw).([]float32), n)
			return
		}
		if wino48Use(hostFloatKernel, wg) {
			wino48RunW(hostFloatKernel, newWino48Geom(g.c, g.h, g.w, g.ph, oc), ws, false, x32, in, any(dy).([]float32), any(dw).([]float32), n)
			return
		}
		winoRunW(hostFloatKernel, wg, ws, x32, in, any(dy).([]float32), any(dw).([]float32), n)
		return
	}
	groups := st.p.Groups
	rows, cols := g.rows(), g.cols()
	og, rg := oc/groups, rows/groups
	ident := g.identity()
	img := g.c * g.h * g.w
	nw := workersFor(st.p.Workers, n)
	ws := bf.workers(nw)
	// dW's GEMMs pack colᵀ straight from x's planes when the forward did.
	plan, _, implicit := st.implicit(is32 && implicitIm2colT(hostFloatKernel), hostFloatKernel)
	// and from x's phase-split planes where a stride-2 forward did
	s2, phased := st.stride2(is32 && implicitIm2colT(hostFloatKernel), hostFloatKernel)
	cgPlane := g.c / groups * g.h * g.w
	split(nw, n, func(wk, lo, hi int) {
		cw := &ws[wk]
		dst := dw
		if wk > 0 {
			cw.part = grow(cw.part, len(dw))
			dst = cw.part
		}
		for i := lo; i < hi; i++ {
			var beta T = 1
			if i == lo {
				beta = 0
			}
			dyi, col := dy[i*oc*cols:(i+1)*oc*cols], x[i*img:(i+1)*img]
			if implicit {
				for gi := 0; gi < groups; gi++ {
					cw.dw.gemmShiftT(dst[gi*og*rg:], rg, og, dyi[gi*og*cols:], cols, col[gi*cgPlane:], plan, beta)
				}
				continue
			}
			if phased {
				cw.col = grow(cw.col, img)
				phaseSplit(any(cw.col).([]float32), any(col).([]float32), g.c, g.h, g.w)
				cw.dw.gemmShiftT(dst, rg, og, dyi, cols, cw.col, s2, beta)
				continue
			}
			switch {
			case bf.keep:
				// x orders this op after the forward, whose col is current.
				col = bf.col[i*rows*cols : (i+1)*rows*cols]
			case !ident:
				cw.col = grow(cw.col, rows*cols)
				im2col(cw.col, col, g)
				col = cw.col
			}
			for gi := 0; gi < groups; gi++ {
				cw.dw.gemm(dst[gi*og*rg:], rg, false, true, og, rg, cols, dyi[gi*og*cols:], cols, col[gi*rg*cols:], cols, beta)
			}
		}
	})
	for _, cw := range ws[1:] {
		for j, v := range cw.part[:len(dw)] {
			dw[j] += v
		}
	}
}

// identBatch is how many images the forward and input-gradient GEMMs of a
// 1×1 convolution cover at once. On small planes one image fills only part
// of the microkernel's 32-column panels (MobileNetV2's 4×4 planes: half;
// 7×7: 77%); the images share the weights, so their planes side by side
// make one wider GEMM with the same sums for every output (the columns of
// a GEMM do not touch each other's).
func identBatch(cols int) int {
	if cols >= 4*nr {
		return 1
	}
	best, bw := 1, panelWaste(cols)
	for g := 2; g <= 16 && g*cols <= 8*nr; g++ {
		if w := panelWaste(g * cols); w < bw-1e-9 {
			best, bw = g, w
		}
	}
	return best
}

// panelWaste is the fraction of the 32-column panels holding n columns
// that is left empty.
func panelWaste(n int) float64 {
	p := (n + nr - 1) / nr * nr
	return float64(p-n) / float64(p)
}

// gatherPlanes sets dst (rows × k·cols) to k images' rows × cols matrices
// from src (one after another) side by side: image t's row r at
// dst[r·k·cols + t·cols:].
func gatherPlanes[T float](dst, src []T, rows, cols, k int) {
	wc := k * cols
	for t := 0; t < k; t++ {
		s := src[t*rows*cols : (t+1)*rows*cols]
		if d32, ok := any(dst).([]float32); ok && copyRowsTo32(d32[t*cols:], any(s).([]float32), rows, cols, wc) {
			continue
		}
		for r := 0; r < rows; r++ {
			copy(dst[r*wc+t*cols:r*wc+(t+1)*cols], s[r*cols:(r+1)*cols])
		}
	}
}

// scatterPlanes is gatherPlanes' inverse: the k images' matrices side by
// side in src back to dst, one after another.
func scatterPlanes[T float](dst, src []T, rows, cols, k int) {
	wc := k * cols
	for t := 0; t < k; t++ {
		d := dst[t*rows*cols : (t+1)*rows*cols]
		if d32, ok := any(d).([]float32); ok && copyRows32(d32, any(src).([]float32)[t*cols:], rows, cols, wc) {
			continue
		}
		for r := 0; r < rows; r++ {
			copy(d[r*cols:(r+1)*cols], src[r*wc+t*cols:r*wc+(t+1)*cols])
		}
	}
}
