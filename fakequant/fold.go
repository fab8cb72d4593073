package fakequant

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Folding a fake quantizer into the op that produces its input.
//
// A fake quantizer after a batch norm costs three passes over the
// activation besides its own quantize pass: the observer's range scan, the
// write of the straight-through mask, and the backward pass dx = dy·mask.
// All three disappear when the producing op (kernels.Fold: a batch norm, a
// ReLU, a residual sum with its activation) does the work inside passes it
// makes anyway: it reports its output's min and max (the planes are in
// cache right after it writes them), and its backward, which already masks
// dy by its clamp (ReLU, ReLU6), also masks it by the quantizer's mask (a
// convolution has no such pass: the max pool after the quantizer applies
// the mask instead, see kernels.MaxPool2dFold). That mask is a window on x: the code
// round(x·float32(1/S)) is monotone in x, so the set of float32 x whose code
// is on the grid is a closed interval [Lo, Hi] containing 0 (Window).
// The gradients and the observer's state are the same bits as without
// folding (nn's tests compare both).

// Producer is the op a folded fake quantizer reads its input from. Its
// backward pass applies the quantizer's straight-through mask.
type Producer interface {
	// OutputRange returns the min and max of the producer's last output; ok
	// is false when it does not know them (or the output holds a NaN or an
	// infinity).
	OutputRange() (mn, mx float32, ok bool)
	// MaskGrad tells the producer that the gradient of its last output
	// passes only where lo <= y <= hi; all: everywhere (no quantization).
	MaskGrad(lo, hi float32, all bool)
}

// EdgeProducer is a Producer that also takes the quantizer's outputs at
// its window's ends, eLo = fq(lo) and eHi = fq(hi), after each MaskGrad
// with all false. The quantizer is non-decreasing, so an output strictly
// between them came from an input strictly inside the window: a consumer
// that sees only the quantizer's output (a max pool choosing its maxima)
// needs the input only where an output is not (NaN comes out as the
// lowest code, never strictly inside).
type EdgeProducer interface {
	Producer
	MaskEdges(eLo, eHi float32)
}

// QuantizingProducer is a Producer whose output's one reader can compute
// the quantizer's output from the producer's output itself (a max pool
// that quantizes the values it loads): the folded quantizer then observes
// and sets its window but writes no output.
type QuantizingProducer interface {
	Producer
	// ConsumerQuantizes offers the quantizer's constants for the last
	// output, c = (s, 1/s, lo, hi, rlo, rhi), the quantizer being
	// min(max(round(min(max(x·(1/s), lo), hi)), rlo), rhi)·s in float32,
	// NaN taken to lo by the first max and round as (v + 1.5·2²³) −
	// 1.5·2²³; true: the consumer computes the outputs itself.
	ConsumerQuantizes(c [6]float32) bool
}

// DeferredProducer is a Producer that may leave its output unwritten for
// the quantizer's one reader to compute (a batch norm whose convolution
// computes its output, kernels.Handoff): the quantizer calls WriteOutput
// before it reads its input (an observer that needs the values, a disabled
// quantizer passing its input through, a consumer that does not quantize).
type DeferredProducer interface {
	QuantizingProducer
	WriteOutput()
}

// RangeObserver is an observer that can take a batch's range instead of
// its values: ObserveRange(mn, mx, n) updates it exactly as Observe of n
// values (all finite) whose min is mn and max mx does.
type RangeObserver interface {
	Observer
	ObserveRange(mn, mx float32, n int) error
}

// CanFold reports whether ApplyFolded folds q on a tensor of dtype dt:
// an Affine per-tensor quantizer on float32.
func CanFold(q Quantizer, dt tensor.Dtype) bool {
	a, ok := q.(*Affine)
	return ok && dt == tensor.Float32 && a.obs.Scheme().Granularity == PerTensor
}

// ApplyFolded is q.Apply(nil, x) for an x that p produces and nothing else
// reads: the same forward values, with the observer fed from p's output
// range when it can take one, and the straight-through mask applied by p's
// backward (the op's own gradient passes dy through unchanged). It returns
// an error unless CanFold(q, x.Dtype()).
func ApplyFolded(q Quantizer, x *G.Node, p Producer) (*G.Node, error) {
	if !CanFold(q, x.Dtype()) {
		return nil, fmt.Errorf("fakequant: ApplyFolded to %v: %v cannot fold (float32 per-tensor affine only)", x.Name(), q)
	}
	if p == nil {
		return nil, fmt.Errorf("fakequant: ApplyFolded to %v: nil producer", x.Name())
	}
	a := q.(*Affine)
	if err := checkNode(x, a.obs.Scheme()); err != nil {
		return nil, err
	}
	return G.ApplyOp(&steOp{q: &foldedAffine{a: a, p: p}, dims: x.Dims(), folded: true}, x)
}

// foldedAffine runs an Affine quantizer inside a folded op.
type foldedAffine struct {
	a   *Affine
	p   Producer
	win window
}

func (f *foldedAffine) String() string { return f.a.String() + " (folded)" }

func (f *foldedAffine) ste32(dst []float32, _ []bool, src []float32, shape []int) error {
	q := f.a
	// src is written before anything below reads it
	written := false
	readSrc := func() {
		if dp, ok := f.p.(DeferredProducer); ok && !written {
			dp.WriteOutput()
		}
		written = true
	}
	mn, mx, ok := f.p.OutputRange()
	if err := q.observeRange(mn, mx, ok, len(src), shape, func() []float32 { readSrc(); return src }); err != nil {
		return err
	}
	if !q.enabled {
		readSrc()
		copy(dst, src)
		f.p.MaskGrad(0, 0, true)
		return nil
	}
	p, err := q.current()
	if err != nil {
		return err
	}
	qmin, qmax := p.Scheme.QRange()
	c := newSeg32(p.Scale[0], p.ZeroPoint[0], qmin, qmax)
	if qp, ok := f.p.(QuantizingProducer); ok && len(p.Scale) == 1 && qp.ConsumerQuantizes([6]float32{c.s, c.inv, c.lo, c.hi, c.rlo, c.rhi}) {
		// dst's one reader quantizes src itself
	} else {
		readSrc()
		if err := FakeQuantize(dst, nil, src, p, shape); err != nil {
			return err
		}
	}
	f.win.set(p.Scale[0], p.ZeroPoint[0], qmin, qmax)
	f.p.MaskGrad(f.win.lo, f.win.hi, false)
	if ep, ok := f.p.(EdgeProducer); ok {
		ep.MaskEdges(f.win.eLo, f.win.eHi)
	}
	return nil
}

// observeRange feeds the observer (when observing) a batch of n values:
// their range [mn, mx] where ok and the observer takes ranges, else the
// values themselves, which values computes (shape is theirs).
func (q *Affine) observeRange(mn, mx float32, ok bool, n int, shape []int, values func() []float32) error {
	if !q.observing {
		return nil
	}
	if ro, isRange := q.obs.(RangeObserver); ok && isRange {
		if err := ro.ObserveRange(mn, mx, n); err != nil {
			return err
		}
		q.have = false
		return nil
	}
	return q.observe(values(), shape)
}

// window caches a folded quantizer's window and its outputs at the ends
// for the last parameters (Window runs ~60 scalar fake-quantizations; the
// parameters change once per batch at most).
type window struct {
	lastS    float32
	lastZ    int32
	lastQ    [2]int32
	lo, hi   float32
	eLo, eHi float32 // the quantizer's outputs at lo and hi (EdgeProducer)
}

// set brings the window up to date for the parameters s, z on [qmin, qmax].
func (w *window) set(s float32, z, qmin, qmax int32) {
	if s == w.lastS && z == w.lastZ && w.lastQ == [2]int32{qmin, qmax} {
		return
	}
	w.lo, w.hi = Window(s, z, qmin, qmax)
	var e [2]float32
	fq32Generic(e[:], nil, []float32{w.lo, w.hi}, newSeg32(s, z, qmin, qmax))
	w.eLo, w.eHi = e[0], e[1]
	w.lastS, w.lastZ, w.lastQ = s, z, [2]int32{qmin, qmax}
}

// InnerAffine is an Affine quantizer that an op runs inside itself,
// between two stages of its own (kernels.InnerQuantizer: a batch norm's
// output quantized before the residual sum in the same loop,
// kernels.BatchNormQuantAddAct). The graph has no node for its output; the
// observer and the parameters are the quantizer's, updated as a folded
// quantizer updates them, with the same bits.
type InnerAffine struct {
	a   *Affine
	win window
}

// Inner returns q to run inside the op that produces its input; it fails
// unless CanFold(q, tensor.Float32).
func Inner(q Quantizer) (*InnerAffine, error) {
	if !CanFold(q, tensor.Float32) {
		return nil, fmt.Errorf("fakequant: Inner: %v cannot run inside an op (float32 per-tensor affine only)", q)
	}
	return &InnerAffine{a: q.(*Affine)}, nil
}

// Prepare observes the batch (by its range [mn, mx] when ok and the
// observer takes ranges, else by values()) and returns the constants
// c = (s, 1/s, lo, hi, rlo, rhi) of QuantizingProducer, the window
// [wlo, whi] of the inputs whose gradient passes, and on = false when the
// quantizer is disabled (the op then passes its input through).
func (f *InnerAffine) Prepare(mn, mx float32, ok bool, n int, shape []int, values func() []float32) (c [6]float32, wlo, whi float32, on bool, err error) {
	q := f.a
	if err := q.observeRange(mn, mx, ok, n, shape, values); err != nil {
		return c, 0, 0, false, err
	}
	if !q.enabled {
		return c, 0, 0, false, nil
	}
	p, err := q.current()
	if err != nil {
		return c, 0, 0, false, err
	}
	qmin, qmax := p.Scheme.QRange()
	g := newSeg32(p.Scale[0], p.ZeroPoint[0], qmin, qmax)
	f.win.set(p.Scale[0], p.ZeroPoint[0], qmin, qmax)
	return [6]float32{g.s, g.inv, g.lo, g.hi, g.rlo, g.rhi}, f.win.lo, f.win.hi, true, nil
}

func (f *InnerAffine) String() string { return f.a.String() + " (inside its producer)" }

func (f *foldedAffine) ste64([]float64, []bool, []float64, []int, *roundHook) error {
	return fmt.Errorf("fakequant: %v: a folded quantizer runs on float32 only", f)
}

// Window returns the closed interval [lo, hi] of the float32 x whose
// unclamped code round(x·float32(1/scale)) + zeroPoint lies in [qmin, qmax]:
// FakeQuantize's mask is true exactly there (false for NaN). It holds 0
// whenever qmin <= zeroPoint <= qmax.
func Window(scale float32, zeroPoint, qmin, qmax int32) (lo, hi float32) {
	c := newSeg32(scale, zeroPoint, qmin, qmax)
	var m [1]bool
	var d, v [1]float32
	in := func(x float32) bool {
		v[0] = x
		fq32Generic(d[:], m[:], v[:], c)
		return m[0]
	}
	// Order the float32s by an integer key: the mask is true on one run of
	// keys around 0's, so two binary searches find its ends.
	key := func(x float32) int64 {
		b := int64(math.Float32bits(x))
		if b&(1<<31) != 0 {
			return -(b &^ (1 << 31))
		}
		return b
	}
	val := func(k int64) float32 {
		if k < 0 {
			return math.Float32frombits(uint32(-k) | 1<<31)
		}
		return math.Float32frombits(uint32(k))
	}
	top := key(math.MaxFloat32)
	// hi: the last key in [0, top] with the mask true.
	a, b := int64(0), top
	for a < b {
		m := a + (b-a+1)/2
		if in(val(m)) {
			a = m
		} else {
			b = m - 1
		}
	}
	hi = val(a)
	// lo: the first key in [−top, 0] with the mask true.
	a, b = -top, 0
	for a < b {
		m := a + (b-a)/2
		if in(val(m)) {
			b = m
		} else {
			a = m + 1
		}
	}
	return val(a), hi
}

// Unfold turns the folded fake quantizer that produced n (ApplyFolded)
// back into an ordinary one — it writes its mask and its gradient applies
// it — and reports whether n was one. Call it before the gradient graph is
// built, when the op meant to apply the mask cannot (nn: a quantizer output
// with more than one reader).
func Unfold(n *G.Node) bool {
	if n == nil {
		return false
	}
	op, ok := n.Op().(*steOp)
	if !ok || !op.folded {
		return false
	}
	f, ok := op.q.(*foldedAffine)
	if !ok {
		return false
	}
	op.q, op.folded = f.a, false
	return true
}
