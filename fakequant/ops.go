package fakequant

import (
	"bytes"
	"fmt"
	"hash"
	"hash/fnv"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// This file holds the gorgonia ops. Two families:
//
//   - steOp: y = f(x) for a quantizer f chosen at run time (affine or power of
//     two), with the straight-through gradient dx = dy·mask, mask from the
//     forward pass (PyTorch's cachemask design).
//   - lsqOp: y = fq(x; scale, zero point) with learnable scale and zero point
//     and PyTorch's _fake_quantize_learnable_* gradients.
//
// Ops are stateful (the forward pass updates observers and caches the mask
// for the backward pass); gorgonia's tape machine always runs a backward op
// after the forward op it belongs to. Every op instance hashes by its own
// address, so two fake-quant ops on one input are never merged.

// roundHook replaces rounding in the float64 path; gradient checks use it to
// freeze rounding residuals. Nil in production.
type roundHook struct {
	elem rounder64                      // x/S of element i
	zp   func(c int, v float64) float64 // learned zero point of channel c
}

// steFunc is a quantizer that a steOp runs: the forward pass with its mask,
// in float32 (training) and float64 (gradient checks). Implementations read
// their enabled/observing switches at call time.
type steFunc interface {
	ste32(dst []float32, mask []bool, src []float32, shape []int) error
	ste64(dst []float64, mask []bool, src []float64, shape []int, h *roundHook) error
	String() string
}

type steOp struct {
	q    steFunc
	dims int
	mask []bool // from the last forward pass
	hook *roundHook
	out  *tensor.Dense
	// folded: the producer of x applies the mask in its own backward
	// (ApplyFolded); the op keeps no mask and its gradient is dy.
	folded bool
}

func (op *steOp) Arity() int { return 1 }

func (op *steOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}

func (op *steOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(in, 0)
}

func (op *steOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

// UsePreallocDo writes into the tensor the op owns (see owned), or, for a
// folded quantizer that gorgonia hands x's own register (nothing reads x
// after it: the producer's backward does not), over x: a read and a write
// of each value where a new tensor costs a read and a write-allocate.
func (op *steOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("fakequant: %v takes 1 input, got %d", op, len(in))
	}
	x, err := denseOf(in[0])
	if err != nil {
		return nil, err
	}
	out := x
	if !op.folded || prealloc == nil || !sameData(prealloc, x) {
		out = owned(&op.out, x)
	}
	n := x.Shape().TotalSize()
	if op.folded {
		op.mask = nil
	} else {
		if cap(op.mask) < n {
			op.mask = make([]bool, n)
		}
		op.mask = op.mask[:n]
	}
	shape := []int(x.Shape())
	switch src := x.Data().(type) {
	case []float32:
		err = op.q.ste32(out.Data().([]float32), op.mask, src, shape)
	case []float64:
		err = op.q.ste64(out.Data().([]float64), op.mask, src, shape, op.hook)
	default:
		err = fmt.Errorf("fakequant: %v: unsupported dtype %v", op, x.Dtype())
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UnsafeDo is the in-place run gorgonia asks for on a first run whose
// output register is x's (folded quantizers only).
func (op *steOp) UnsafeDo(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("fakequant: %v takes 1 input, got %d", op, len(in))
	}
	return op.UsePreallocDo(in[0], in...)
}

// ReturnsPtr and OverwritesInput let a folded quantizer write over its
// input: its kernels allow dst = src. (An unfolded op's gradient reads x,
// so gorgonia would not share the register anyway; the float formats'
// mask reads x after rounding it.)
func (op *steOp) ReturnsPtr() bool { return op.folded }
func (op *steOp) OverwritesInput() int {
	if op.folded {
		return 0
	}
	return -1
}
func (op *steOp) CallsExtern() bool     { return false }
func (op *steOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fakequant.ste:%p", op) }
func (op *steOp) Hashcode() uint32      { return hashOf(op) }
func (op *steOp) String() string        { return "FakeQuant[" + op.q.String() + "]" }

func (op *steOp) DiffWRT(int) []bool { return []bool{true} }

func (op *steOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	if op.folded {
		return G.Nodes{grad}, nil
	}
	dx, err := G.ApplyOp(&steGradOp{fwd: op}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// steGradOp computes dx = dy·mask with the mask of its forward op's last run.
// It takes x only to order itself after the forward pass.
type steGradOp struct {
	fwd *steOp
	out *tensor.Dense
}

func (op *steGradOp) Arity() int { return 2 }

func (op *steGradOp) Type() hm.Type {
	t := G.TensorType{Dims: op.fwd.dims, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}

func (op *steGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in, 1) }

func (op *steGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

// UsePreallocDo masks dy in place when gorgonia hands it dy's own register
// (the op declares it overwrites dy, and the register is shared only when
// nothing reads dy later); otherwise it writes a tensor it owns.
func (op *steGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("fakequant: %v takes 2 inputs, got %d", op, len(in))
	}
	g, err := denseOf(in[1])
	if err != nil {
		return nil, err
	}
	mask := op.fwd.mask
	if g.Shape().TotalSize() != len(mask) {
		return nil, fmt.Errorf("%w: %v: gradient has %d elements, forward mask %d (did the forward pass run?)", ErrShape, op, g.Shape().TotalSize(), len(mask))
	}
	if prealloc != nil && sameData(prealloc, g) {
		// gorgonia gave this op the gradient's register (OverwritesInput):
		// nothing reads dy after it, so only the masked-out values change.
		switch gd := g.Data().(type) {
		case []float32:
			zeroMasked(gd, mask, func(g []float32, m []bool) { maskGrad32(g, g, m) })
		case []float64:
			zeroMasked(gd, mask, func(g []float64, m []bool) { maskGradGeneric(g, g, m) })
		default:
			return nil, fmt.Errorf("fakequant: %v: unsupported dtype %v", op, g.Dtype())
		}
		return g, nil
	}
	out := owned(&op.out, g)
	switch gd := g.Data().(type) {
	case []float32:
		maskGrad32(out.Data().([]float32), gd, mask)
	case []float64:
		maskGradGeneric(out.Data().([]float64), gd, mask)
	default:
		return nil, fmt.Errorf("fakequant: %v: unsupported dtype %v", op, g.Dtype())
	}
	return out, nil
}

// UnsafeDo is the in-place run gorgonia asks for on a first run whose
// output register is dy's.
func (op *steGradOp) UnsafeDo(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("fakequant: %v takes 2 inputs, got %d", op, len(in))
	}
	return op.UsePreallocDo(in[1], in...)
}

func (op *steGradOp) ReturnsPtr() bool      { return true }
func (op *steGradOp) CallsExtern() bool     { return false }
func (op *steGradOp) OverwritesInput() int  { return 1 }
func (op *steGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fakequant.steGrad:%p", op) }
func (op *steGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *steGradOp) String() string        { return "FakeQuantGrad[" + op.fwd.q.String() + "]" }

// ReadsInputsOnlyWhileRunning says that the ops keep no reference to their
// inputs after Do (kernels.TransientReader: a gradient's buffer may then
// be shared once they have run; the in-place runs are OverwritesInput's).
func (op *steGradOp) ReadsInputsOnlyWhileRunning() {}
func (op *steOp) ReadsInputsOnlyWhileRunning()     {}

// sameData reports whether v is a dense tensor over x's backing array.
func sameData(v G.Value, x *tensor.Dense) bool {
	d, ok := v.(*tensor.Dense)
	return ok && d.Uintptr() == x.Uintptr() && d.DataSize() == x.DataSize()
}

// zeroMasked is g = 0 where !mask, in place. Masks are mostly true (a
// weight quantizer clips a channel's extreme value at most; an activation's
// moving range a few values), so the false entries are found with the
// runtime's vector byte search rather than a pass over g; once they turn
// out to be common (more than one in sparseLimit), dense masks the rest in
// one pass.
func zeroMasked[T float32 | float64](g []T, mask []bool, dense func(g []T, mask []bool)) {
	if len(mask) == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&mask[0])), len(mask))
	g = g[:len(b)]
	for i, found := 0, 0; ; found++ {
		if found > 16 && found*sparseLimit > i {
			dense(g[i:], mask[i:])
			return
		}
		j := bytes.IndexByte(b[i:], 0)
		if j < 0 {
			return
		}
		i += j
		g[i] = 0
		i++
	}
}

// sparseLimit is the density of false mask entries (one in sparseLimit)
// above which zeroMasked stops searching: a search costs a call, the dense
// pass a read and a write of every value.
const sparseLimit = 64

// maskGradGeneric is dst = g where mask, else 0 (maskGrad32 may vectorise
// the float32 case).
func maskGradGeneric[T float32 | float64](dst, g []T, mask []bool) {
	dst = dst[:len(g)]
	mask = mask[:len(g)]
	for i, v := range g {
		if mask[i] {
			dst[i] = v
		} else {
			dst[i] = 0
		}
	}
}

// lsqOp is fake quantization with a learnable scale (and zero point, for
// affine schemes): inputs x, scale[, zero point], scale and zero point of
// length 1 or C.
type lsqOp struct {
	q       *LSQ
	dims    int
	learnZP bool
	hook    *roundHook

	// set by the forward pass, read by the gradient ops
	identity   bool    // the quantizer was disabled
	gradFactor float64 // LSQ gradient scale used
	out        *tensor.Dense

	// The float32 backward computes dX, dScale and dZeroPoint in one pass
	// (lsqSums32) for whichever gradient op runs first after a forward, and
	// the others read the results: gen counts forwards, fusedGen is the
	// forward the results belong to.
	gen, fusedGen uint64
	dx            *tensor.Dense
	dS, dZ        []float64
}

func (op *lsqOp) Arity() int {
	if op.learnZP {
		return 3
	}
	return 2
}

func (op *lsqOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	tx := G.TensorType{Dims: op.dims, Of: a}
	tv := G.TensorType{Dims: 1, Of: a}
	if op.learnZP {
		return hm.NewFnType(tx, tv, tv, tx)
	}
	return hm.NewFnType(tx, tv, tx)
}

func (op *lsqOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf(in, 0) }

func (op *lsqOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *lsqOp) UsePreallocDo(_ G.Value, in ...G.Value) (G.Value, error) {
	x, s, z, err := op.inputs(in)
	if err != nil {
		return nil, err
	}
	out := owned(&op.out, x)
	op.gen++
	if err := op.q.forward(op, out, x, s, z); err != nil {
		return nil, err
	}
	return out, nil
}

// inputs unpacks x, scale and the optional zero point.
func (op *lsqOp) inputs(in []G.Value) (x, s, z *tensor.Dense, err error) {
	if len(in) != op.Arity() {
		return nil, nil, nil, fmt.Errorf("fakequant: %v takes %d inputs, got %d", op, op.Arity(), len(in))
	}
	if x, err = denseOf(in[0]); err != nil {
		return
	}
	if s, err = denseOf(in[1]); err != nil {
		return
	}
	if op.learnZP {
		if z, err = denseOf(in[2]); err != nil {
			return
		}
	}
	if s.Dtype() != x.Dtype() || (z != nil && z.Dtype() != x.Dtype()) {
		return nil, nil, nil, fmt.Errorf("fakequant: %v: x is %v but scale/zero point are %v", op, x.Dtype(), s.Dtype())
	}
	return x, s, z, nil
}

func (op *lsqOp) ReturnsPtr() bool      { return false }
func (op *lsqOp) CallsExtern() bool     { return false }
func (op *lsqOp) OverwritesInput() int  { return -1 }
func (op *lsqOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fakequant.lsq:%p", op) }
func (op *lsqOp) Hashcode() uint32      { return hashOf(op) }
func (op *lsqOp) String() string        { return "LSQ[" + op.q.String() + "]" }

func (op *lsqOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *lsqOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	args := append(G.Nodes{}, in...)
	args = append(args, grad)
	out := make(G.Nodes, len(in))
	for which := range in {
		n, err := G.ApplyOp(&lsqGradOp{fwd: op, which: which}, args...)
		if err != nil {
			return nil, err
		}
		out[which] = n
	}
	return out, nil
}

// lsqGradOp computes one of dX (which 0), dScale (1), dZeroPoint (2) from
// (x, scale[, zero point], dy).
type lsqGradOp struct {
	fwd   *lsqOp
	which int
	out   *tensor.Dense
}

func (op *lsqGradOp) Arity() int { return op.fwd.Arity() + 1 }

func (op *lsqGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	tx := G.TensorType{Dims: op.fwd.dims, Of: a}
	tv := G.TensorType{Dims: 1, Of: a}
	ret := hm.Type(tx)
	if op.which > 0 {
		ret = tv
	}
	if op.fwd.learnZP {
		return hm.NewFnType(tx, tv, tv, tx, ret)
	}
	return hm.NewFnType(tx, tv, tx, ret)
}

func (op *lsqGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if op.which == 0 {
		return shapeOf(in, 0)
	}
	return shapeOf(in, op.which)
}

func (op *lsqGradOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, fmt.Errorf("fakequant: %v takes %d inputs, got %d", op, op.Arity(), len(in))
	}
	x, s, z, err := op.fwd.inputs(in[:len(in)-1])
	if err != nil {
		return nil, err
	}
	g, err := denseOf(in[len(in)-1])
	if err != nil {
		return nil, err
	}
	if g.Shape().TotalSize() != x.Shape().TotalSize() {
		return nil, fmt.Errorf("%w: %v: gradient %v for input %v", ErrShape, op, g.Shape(), x.Shape())
	}
	like := x
	if op.which == 1 {
		like = s
	} else if op.which == 2 {
		like = z
	}
	if x.Dtype() == tensor.Float32 && !op.fwd.identity {
		return op.fused(x, s, z, g, like)
	}
	out := owned(&op.out, like)
	if err := op.fwd.q.backward(op.fwd, op.which, out, x, s, z, g); err != nil {
		return nil, err
	}
	return out, nil
}

// fused returns this op's gradient from the one-pass float32 backward,
// running it if no other gradient op of the same forward has.
func (op *lsqGradOp) fused(x, s, z, g, like *tensor.Dense) (G.Value, error) {
	f := op.fwd
	if f.fusedGen != f.gen || f.dx == nil {
		if err := f.q.backwardFused(f, x, s, z, g); err != nil {
			return nil, err
		}
		f.fusedGen = f.gen
	}
	if op.which == 0 {
		return f.dx, nil
	}
	out := owned(&op.out, like)
	d := out.Data().([]float32)
	src := f.dS
	if op.which == 2 {
		src = f.dZ
	}
	for c := range d {
		d[c] = float32(src[c])
	}
	return out, nil
}

func (op *lsqGradOp) ReturnsPtr() bool      { return false }
func (op *lsqGradOp) CallsExtern() bool     { return false }
func (op *lsqGradOp) OverwritesInput() int  { return -1 }
func (op *lsqGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "fakequant.lsqGrad%d:%p", op.which, op) }
func (op *lsqGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *lsqGradOp) String() string {
	return fmt.Sprintf("LSQGrad%s[%v]", [...]string{"X", "Scale", "ZeroPoint"}[op.which], op.fwd.q)
}

// helpers

func hashOf(op G.Op) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func shapeOf(in []G.DimSizer, i int) (tensor.Shape, error) {
	if i >= len(in) {
		return nil, fmt.Errorf("%w: need input %d for the shape, have %d", ErrShape, i, len(in))
	}
	s, ok := in[i].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%w: input %d has no known shape (%T)", ErrShape, i, in[i])
	}
	return s.Clone(), nil
}

// denseOf returns v as a contiguous dense tensor (copying a strided view).
func denseOf(v G.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("fakequant: want a dense tensor, got %T", v)
	}
	if d.RequiresIterator() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("fakequant: cannot materialize a %T view", d)
		}
		d = m
	}
	if d.Dtype() != tensor.Float32 && d.Dtype() != tensor.Float64 {
		return nil, fmt.Errorf("fakequant: unsupported dtype %v (want float32 or float64)", d.Dtype())
	}
	if d.Shape().Dims() == 0 {
		return nil, fmt.Errorf("%w: scalar tensors are not supported", ErrShape)
	}
	return d, nil
}

// owned returns *cache when it is a tensor of x's dtype and shape, else a
// new one stored in *cache. An op instance belongs to one graph node, and
// nn's graphs have static shapes, so from the second run on every op writes
// into the tensor it owns and a training step allocates nothing (gorgonia's
// tape machine clears its registers on Reset, so the prealloc it offers was
// almost never there: 11.8 MB allocated per LeNet-5 W8A8 step). A caller who
// keeps an op's output across runs must copy it.
func owned(cache **tensor.Dense, x *tensor.Dense) *tensor.Dense {
	if c := *cache; c != nil && c.Dtype() == x.Dtype() && c.Shape().Eq(x.Shape()) {
		return c
	}
	*cache = tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...))
	return *cache
}
