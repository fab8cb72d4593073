package fakequant

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// PoT is a power-of-two (logarithmic) fake quantizer, per tensor:
// x → sign(x)·2^round(log2|x|) on the grid of PoTParams, with a
// straight-through gradient that is zero where x saturated at ±2^MaxExp.
//
// MaxExp is fixed (WithMaxExp) or follows the largest |x| observed so far
// (a running max, like a min-max observer): MaxExpFor(max|x|).
type PoT struct {
	bits      int
	fixed     *int
	enabled   bool
	observing bool
	maxAbs    float32
	observed  bool
}

// NewPowerOfTwo returns a power-of-two quantizer with bits exponent bits
// (1..8; a code is a sign bit plus bits exponent bits, one exponent code
// meaning zero). Option: WithMaxExp.
func NewPowerOfTwo(bits int, opts ...Option) (*PoT, error) {
	o, err := applyOptions("pot", opts)
	if err != nil {
		return nil, err
	}
	q := &PoT{bits: bits, fixed: o.maxExp, enabled: true, observing: true}
	p := PoTParams{Bits: bits}
	if o.maxExp != nil {
		p.MaxExp = *o.maxExp
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return q, nil
}

// Params returns the grid in use. Without a fixed MaxExp it needs an
// observed batch first (ErrNotObserved).
func (q *PoT) Params() (PoTParams, error) {
	if q.fixed != nil {
		return PoTParams{Bits: q.bits, MaxExp: *q.fixed}, nil
	}
	if !q.observed {
		return PoTParams{}, ErrNotObserved
	}
	return PoTParams{Bits: q.bits, MaxExp: MaxExpFor(q.maxAbs)}, nil
}

// Apply inserts power-of-two fake quantization of x. b is not used.
func (q *PoT) Apply(_ Binder, x *G.Node) (*G.Node, error) {
	if err := checkNode(x, QScheme{Bits: 8}); err != nil {
		return nil, err
	}
	return G.ApplyOp(&steOp{q: q, dims: x.Dims()}, x)
}

// SetObserving turns tracking of max|x| on or off.
func (q *PoT) SetObserving(on bool) { q.observing = on }

// SetEnabled turns quantization on or off (identity).
func (q *PoT) SetEnabled(on bool) { q.enabled = on }

// QParams returns ErrNotLinear: a power-of-two grid has no scale and zero
// point. Use Params.
func (q *PoT) QParams() (QParams, error) { return QParams{}, ErrNotLinear }

func (q *PoT) observe(m float64) {
	if q.observing && q.fixed == nil {
		if !q.observed || float32(m) > q.maxAbs {
			q.maxAbs = float32(m)
		}
		q.observed = true
	}
}

func maxAbsFinite[T float32 | float64](x []T) (m float64, any bool) {
	for _, v := range x {
		a := math.Abs(float64(v))
		if a <= math.MaxFloat64 { // skips NaN and Inf
			any = true
			m = max(m, a)
		}
	}
	return m, any
}

func (q *PoT) ste32(dst []float32, mask []bool, src []float32, _ []int) error {
	if m, ok := maxAbsFinite(src); ok {
		q.observe(m)
	}
	if !q.enabled {
		passThrough(dst, mask, src)
		return nil
	}
	p, err := q.Params()
	if err != nil {
		return err
	}
	return FakeQuantizePoT(dst, mask, src, p)
}

func (q *PoT) ste64(dst []float64, mask []bool, src []float64, _ []int, _ *roundHook) error {
	if m, ok := maxAbsFinite(src); ok {
		q.observe(m)
	}
	if !q.enabled {
		passThrough(dst, mask, src)
		return nil
	}
	p, err := q.Params()
	if err != nil {
		return err
	}
	fakeQuantizePoT64(dst, mask, src, p)
	return nil
}

// MarshalState saves the flags and the running max|x|.
func (q *PoT) MarshalState() ([]byte, error) {
	return encodeState(quantState{Kind: "pot", Enabled: q.enabled, Observing: q.observing, MaxAbs: q.maxAbs, Observed: q.observed})
}

// UnmarshalState restores what MarshalState saved.
func (q *PoT) UnmarshalState(b []byte) error {
	s, err := decodeState(b, "pot")
	if err != nil {
		return err
	}
	if !(s.MaxAbs >= 0) || math.IsInf(float64(s.MaxAbs), 0) {
		return fmt.Errorf("%w: max|x| = %g", ErrState, s.MaxAbs)
	}
	q.enabled, q.observing, q.maxAbs, q.observed = s.Enabled, s.Observing, s.MaxAbs, s.Observed
	return nil
}

// String describes the quantizer, e.g. "pot3 running-max" or "pot3 maxexp 0".
func (q *PoT) String() string {
	if q.fixed != nil {
		return fmt.Sprintf("pot%d maxexp %d", q.bits, *q.fixed)
	}
	return fmt.Sprintf("pot%d running-max", q.bits)
}

// Identity is the quantizer of a layer kept in floating point: Apply returns
// x itself and nothing is observed.
type Identity struct{}

// Apply returns x unchanged.
func (Identity) Apply(_ Binder, x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("fakequant: Apply: nil node")
	}
	return x, nil
}

// SetObserving does nothing.
func (Identity) SetObserving(bool) {}

// SetEnabled does nothing.
func (Identity) SetEnabled(bool) {}

// QParams returns ErrNotLinear.
func (Identity) QParams() (QParams, error) { return QParams{}, ErrNotLinear }

// MarshalState returns a versioned empty state.
func (Identity) MarshalState() ([]byte, error) { return encodeState(quantState{Kind: "identity"}) }

// UnmarshalState accepts only an identity state.
func (Identity) UnmarshalState(b []byte) error {
	_, err := decodeState(b, "identity")
	return err
}

// String returns "fp32".
func (Identity) String() string { return "fp32" }

// Compile-time checks that the quantizers satisfy the contract.
var (
	_ Quantizer = (*Affine)(nil)
	_ Quantizer = (*LSQ)(nil)
	_ Quantizer = (*PoT)(nil)
	_ Quantizer = Identity{}
)
