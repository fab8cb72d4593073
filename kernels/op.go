package kernels

import (
	"bytes"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"runtime"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/qatgo/qatgo/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrShape reports inputs whose shapes an op cannot take.
var ErrShape = errors.New("kernels: bad shape")

// ErrDtype reports an input that is neither Float32 nor Float64, or inputs
// whose dtypes differ.
var ErrDtype = errors.New("kernels: unsupported dtype")

// ErrOrder reports ops that ran out of the order they were built for: a
// folded op's backward without its fake quantizer having run after the
// forward (see Fold), or the gradient of an evaluation-only op.
var ErrOrder = errors.New("kernels: ops out of order")

// errNoSecondOrder is returned by the backward ops' SymDiff: training needs
// first derivatives only.
var errNoSecondOrder = errors.New("kernels: second derivatives are not implemented")

type float interface{ ~float32 | ~float64 }

// opType spells out the function type of an op whose inputs have the given
// numbers of dimensions, all of one dtype 'a'. Free type variables for the
// output would make gorgonia's unifier recurse, so every tensor type is
// written out.
func opType(outDims int, inDims ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(inDims)+1)
	for _, d := range inDims {
		ts = append(ts, G.TensorType{Dims: d, Of: a})
	}
	ts = append(ts, G.TensorType{Dims: outDims, Of: a})
	return hm.NewFnType(ts...)
}

// instanceHash writes a hash unique to the op instance p: two ops with equal
// parameters on the same input must not be merged by gorgonia, since each
// owns buffers tied to its own node.
func instanceHash(h hash.Hash, name string, p any) {
	fmt.Fprintf(h, "%s@%p", name, p)
}

func instanceHashcode(name string, p any) uint32 {
	h := fnv.New32a()
	instanceHash(h, name, p)
	return h.Sum32()
}

// shapesOf converts InferShape's arguments to shapes.
func shapesOf(name string, ds []G.DimSizer, n int) ([]tensor.Shape, error) {
	if len(ds) != n {
		return nil, fmt.Errorf("%w: %s takes %d inputs, got %d", ErrShape, name, n, len(ds))
	}
	out := make([]tensor.Shape, n)
	for i, d := range ds {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%w: %s input %d has no shape (%T)", ErrShape, name, i, d)
		}
		out[i] = s
	}
	return out, nil
}

// denseOf returns the dense tensor behind v, materialising a view.
func denseOf(name string, v G.Value, i int) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%w: %s input %d is %T, not a dense tensor", ErrShape, name, i, v)
	}
	if d.IsMaterializable() {
		d = d.Materialize().(*tensor.Dense)
	}
	return d, nil
}

// inputs fetches and checks the dense inputs of an op: all of one dtype,
// Float32 or Float64.
func inputs(name string, vs []G.Value, n int) ([]*tensor.Dense, tensor.Dtype, error) {
	if len(vs) != n {
		return nil, tensor.Dtype{}, fmt.Errorf("%w: %s takes %d inputs, got %d", ErrShape, name, n, len(vs))
	}
	ds := make([]*tensor.Dense, n)
	for i, v := range vs {
		d, err := denseOf(name, v, i)
		if err != nil {
			return nil, tensor.Dtype{}, err
		}
		ds[i] = d
	}
	dt := ds[0].Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, dt, fmt.Errorf("%w: %s got %v", ErrDtype, name, dt)
	}
	for i, d := range ds[1:] {
		if d.Dtype() != dt {
			return nil, dt, fmt.Errorf("%w: %s input %d is %v, input 0 is %v", ErrDtype, name, i+1, d.Dtype(), dt)
		}
	}
	return ds, dt, nil
}

// reuseOut returns *cache if it already has the shape and dtype, else a new
// zeroed tensor stored in *cache. Ops return the same tensor every run, so a
// training step allocates nothing once the first run has sized everything.
func reuseOut(cache **tensor.Dense, dt tensor.Dtype, shape ...int) *tensor.Dense {
	if c := *cache; c != nil && c.Dtype() == dt && c.Shape().Eq(tensor.Shape(shape)) {
		return c
	}
	*cache = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	return *cache
}

// Engine returns the tensor engine for a gorgonia VM running graphs of these
// ops (G.NewTapeMachine(g, G.WithEngine(kernels.Engine()))): the VM gives
// every value its engine, and gorgonia sums the gradients of a node with
// several readers (a residual block's input) by tensor.Add, which runs on its
// first operand's engine. tensor.StdEng adds in one scalar loop on one core
// (5% of a resnet20 step on two cores); this engine adds a dense float pair
// split over the cores — the same bits, a float sum being one rounding — and
// leaves every other case and every other method to StdEng.
func Engine() tensor.Engine { return engine{} }

type engine struct{ tensor.StdEng }

func (e engine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	if y := addDest(a, b, opts); y != nil {
		switch y.Dtype() {
		case tensor.Float32:
			addTo(y.Data().([]float32), a.Data().([]float32), b.Data().([]float32))
			return y, nil
		case tensor.Float64:
			addTo(y.Data().([]float64), a.Data().([]float64), b.Data().([]float64))
			return y, nil
		}
	}
	return e.StdEng.Add(a, b, opts...)
}

// addDest is where engine.Add writes a + b: the reuse tensor, or a itself
// when the call is unsafe; nil when StdEng should take the call (views,
// other dtypes, differing shapes, increments, a safe call that must
// allocate).
func addDest(a, b tensor.Tensor, opts []tensor.FuncOpt) *tensor.Dense {
	ad, ok := a.(*tensor.Dense)
	bd, ok2 := b.(*tensor.Dense)
	if !ok || !ok2 || ad.RequiresIterator() || bd.RequiresIterator() || ad.Dtype() != bd.Dtype() || !ad.Shape().Eq(bd.Shape()) {
		return nil
	}
	fo := tensor.ParseFuncOpts(opts...)
	if fo.Incr() != nil || fo.As().Type != nil {
		return nil
	}
	if r := fo.Reuse(); r != nil {
		rd, ok := r.(*tensor.Dense)
		if !ok || rd.RequiresIterator() || rd.Dtype() != ad.Dtype() || !rd.Shape().Eq(ad.Shape()) {
			return nil
		}
		return rd
	}
	if fo.Safe() {
		return nil
	}
	return ad
}

// sameBits reports whether a and b hold the same bits (== would call
// −0 and +0 the same and NaN different from itself): a convolution keeps
// its packed weights while the bits it packed from stay the same.
func sameBits[T float](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	size := int(unsafe.Sizeof(a[0]))
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), size*len(a)), unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), size*len(b)))
}

// grow returns s resized to n elements, reallocating only when too small.
func grow[T float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// opBase holds what every op here shares: a name for String and hashing.
// Embedding types implement the rest of G.Op.
type opBase struct{ name string }

func (o *opBase) ReturnsPtr() bool     { return false }
func (o *opBase) CallsExtern() bool    { return false }
func (o *opBase) OverwritesInput() int { return -1 }
func (o *opBase) String() string       { return o.name }

// backward ops are not differentiated again.
type noDiff struct{}

func (noDiff) DiffWRT(n int) []bool { return make([]bool, n) }
func (noDiff) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errNoSecondOrder
}

// mulT multiplies generically: float32 goes to the packed Sgemm, float64 to a
// plain loop (used for gradient checks only).
type mulT[T float] struct {
	g  Gemm
	gs []Gemm // gemmSplit's, one per worker
	pa PackedA
	// the A of the last setA, for the float64 path
	a      []T
	lda    int
	tA     bool
	m, k   int
	is32   bool
	inited bool
}

func (p *mulT[T]) init() {
	if !p.inited {
		var z T
		_, p.is32 = any(z).(float32)
		p.inited = true
	}
}

// gemm computes C = op(A)·op(B) + beta·C.
func (p *mulT[T]) gemm(c []T, ldc int, tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T) {
	p.init()
	if p.is32 {
		p.g.Sgemm(any(c).([]float32), ldc, tA, tB, m, n, k, 1, any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta))
		return
	}
	naiveMul(c, ldc, tA, tB, m, n, k, a, lda, b, ldb, beta)
}

// gemmSplitMin is the fewest multiply-adds gemmSplit splits.
const gemmSplitMin = 1 << 21

// gemmSplit is gemm with C's columns split over the cores in whole 32-column
// panels when the product is large: a Linear layer's GEMMs are one call
// each (LeNet-5's fc1: 25.6 M multiply-adds forward, as many for each
// gradient), which ran on one core. Every element of C gets the same sums
// in the same order as in one call: the k blocking and the microkernel do
// not depend on which columns a call covers.
func (p *mulT[T]) gemmSplit(c []T, ldc int, tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T) {
	p.init()
	nw := 1
	// gonum's Sgemm (the portable kernel) splits its own work, with other
	// sums.
	if p.is32 && m*n*k >= gemmSplitMin && p.g.kernel() != fkGonum {
		nw = parallel.Chunks(n, nr)
	}
	if nw <= 1 {
		p.gemm(c, ldc, tA, tB, m, n, k, a, lda, b, ldb, beta)
		return
	}
	if len(p.gs) < nw {
		p.gs = make([]Gemm, nw)
	}
	c32, a32, b32 := any(c).([]float32), any(a).([]float32), any(b).([]float32)
	parallel.For(n, nw, nr, func(w, lo, hi int) {
		if lo == hi {
			return
		}
		bw := b32[lo:] // columns lo.. of B (k×n)
		if tB {
			bw = b32[lo*ldb:] // rows lo.. of B itself (n×k)
		}
		p.gs[w].Sgemm(c32[lo:], ldc, tA, tB, m, hi-lo, k, 1, a32, lda, bw, ldb, float32(beta))
	})
}

// setA fixes op(A) for the following mulA calls (packing it once for float32).
func (p *mulT[T]) setA(tA bool, m, k int, a []T, lda int) {
	p.init()
	p.a, p.lda, p.tA, p.m, p.k = a, lda, tA, m, k
	if p.is32 {
		p.g.PackA(&p.pa, tA, m, k, any(a).([]float32), lda)
	}
}

// mulA computes C = A·op(B) + beta·C with the A of setA.
func (p *mulT[T]) mulA(c []T, ldc int, tB bool, n int, b []T, ldb int, beta T) {
	p.mulAWith(&p.g, c, ldc, tB, n, b, ldb, beta)
}

// mulAWith is mulA with the packing buffers of g, so that several goroutines
// can share one packed A, each with its own g.
func (p *mulT[T]) mulAWith(g *Gemm, c []T, ldc int, tB bool, n int, b []T, ldb int, beta T) {
	if p.is32 {
		g.SgemmPacked(any(c).([]float32), ldc, &p.pa, tB, n, 1, any(b).([]float32), ldb, float32(beta))
		return
	}
	naiveMul(c, ldc, p.tA, tB, p.m, n, p.k, p.a, p.lda, b, ldb, beta)
}

// mulAShift computes C = A·B + beta·C with the A of setA and B the
// implicit matrix of plan over src (float32 only: see convState.implicit).
func (p *mulT[T]) mulAShift(g *Gemm, c []T, ldc int, src []T, plan *shiftPlan, beta T) {
	g.sgemmPackedShift(any(c).([]float32), ldc, &p.pa, any(src).([]float32), plan, float32(beta))
}

// mulASeg computes C = A·B + beta·C with the A of setA and B the implicit
// matrix of plan over src (float32 only: see convState.segmented).
func (p *mulT[T]) mulASeg(g *Gemm, c []T, ldc int, src []T, plan *segPlan, beta T) {
	g.sgemmPackedSeg(any(c).([]float32), ldc, &p.pa, any(src).([]float32), plan, float32(beta))
}

// gemmShiftT computes C = A·Bᵀ + beta·C with B the implicit matrix of plan
// over src (float32 only: see convState.implicit).
func (p *mulT[T]) gemmShiftT(c []T, ldc, m int, a []T, lda int, src []T, plan *shiftPlan, beta T) {
	p.g.sgemmShiftT(any(c).([]float32), ldc, m, any(a).([]float32), lda, any(src).([]float32), plan, float32(beta))
}

// workersFor is how many goroutines split n images: the requested count
// (0 means up to 2, bounded by GOMAXPROCS), at most one per 4 images.
func workersFor(req, n int) int {
	w := req
	if w <= 0 {
		w = min(2, runtime.GOMAXPROCS(0))
	}
	return max(1, min(w, n/4))
}

// split runs f(w, lo, hi) over nw contiguous ranges of [0, n), one in the
// calling goroutine (internal/parallel's For, with kernels' own worker
// counts): range w runs on the same core in every call, so ops that split
// a batch's images alike read what they wrote.
func split(nw, n int, f func(w, lo, hi int)) { parallel.For(n, nw, 1, f) }

func naiveMul[T float](c []T, ldc int, tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av T
			if tA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			if av == 0 {
				continue
			}
			if tB {
				for j := range row {
					row[j] += av * b[j*ldb+p]
				}
			} else {
				br := b[p*ldb : p*ldb+n]
				for j := range row {
					row[j] += av * br[j]
				}
			}
		}
	}
}

// sumBias adds into db[c] the sum of dy over outer×inner, where dy is laid
// out (outer, C, inner): the gradient of a bias broadcast over all but one
// axis.
func sumBias[T float](db, dy []T, outer, inner int) {
	if d, ok := any(db).([]float32); ok && sumBiasFast(d, any(dy).([]float32), outer, inner) {
		return
	}
	C := len(db)
	clear(db)
	for o := 0; o < outer; o++ {
		for c := 0; c < C; c++ {
			seg := dy[(o*C+c)*inner : (o*C+c+1)*inner]
			var s T
			for _, v := range seg {
				s += v
			}
			db[c] += s
		}
	}
}

// biasGradOp is the gradient of a fused bias: sum of dy over every axis but
// axis 1.
type biasGradOp struct {
	opBase
	noDiff
	dims int // of dy
	out  *tensor.Dense
}

func newBiasGrad(dims int) *biasGradOp {
	return &biasGradOp{opBase: opBase{name: "kernels.biasGrad"}, dims: dims}
}

func (o *biasGradOp) Arity() int            { return 1 }
func (o *biasGradOp) Type() hm.Type         { return opType(1, o.dims) }
func (o *biasGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *biasGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *biasGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 1)
	if err != nil {
		return nil, err
	}
	if len(s[0]) < 2 {
		return nil, fmt.Errorf("%w: %s: dy is %v", ErrShape, o.name, s[0])
	}
	return tensor.Shape{s[0][1]}, nil
}

func (o *biasGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 1)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	if len(s) < 2 {
		return nil, fmt.Errorf("%w: %s: dy is %v", ErrShape, o.name, s)
	}
	inner := 1
	for _, d := range s[2:] {
		inner *= d
	}
	out := reuseOut(&o.out, dt, s[1])
	switch dt {
	case tensor.Float32:
		sumBias(out.Data().([]float32), in[0].Data().([]float32), s[0], inner)
	default:
		sumBias(out.Data().([]float64), in[0].Data().([]float64), s[0], inner)
	}
	return out, nil
}
