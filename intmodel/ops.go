package intmodel

import (
	"fmt"
	"math"

	"github.com/qatgo/qatgo/fixedpoint"
)

// MaxRescaleCount bounds the element count a Rescale sums, so that the
// int32 sum of count differences of 8-bit codes cannot overflow:
// 2^23·255 < 2^31.
const MaxRescaleCount = 1 << 23

// AddLeftShift is the left shift of Add's inputs before scaling (TFLite's
// value for 8-bit operands: 255·2^20 < 2^31 leaves room for the sum).
const AddLeftShift = 20

// ClampFor returns the clamp bounds of an output quantized by out: its
// full range, with a fused ReLU raising qmin to the zero point (real 0) and
// a fused ReLU6 (which implies the ReLU) also lowering qmax to the code of
// real 6, Z + nearbyint(6·(1/S)) computed in float32 as fake-quant rounds
// (half to even), so that the clamp equals fake-quantizing a ReLU6 output.
func ClampFor(out ActQuant, relu, relu6 bool) (qmin, qmax int32) {
	qmin, qmax = out.Range()
	if relu || relu6 {
		qmin = max(qmin, out.ZeroPoint)
	}
	if relu6 {
		inv := 1 / out.Scale
		six := math.RoundToEven(float64(float32(6) * inv))
		if lim := float64(out.ZeroPoint) + six; lim < float64(qmax) {
			qmax = max(int32(lim), qmin)
		}
	}
	return qmin, qmax
}

// Rescale moves a sum of count codes from one quantization to another:
//
//	acc   = Σ (q_in − In.ZeroPoint)          over count codes (int32)
//	q_out = clamp(Out.ZeroPoint + MultiplyByQuantizedMultiplier(acc, M0, Shift), QMin, QMax)
//
// with M = S_in/(S_out·count) = M0·2^(Shift−31) (QuantizeMultiplier; M may
// exceed 1). count = 1 is a requantization (Concat), count = window size an
// average (AvgPool2d, GlobalAvgPool).
type Rescale struct {
	In    ActQuant `json:"in"`
	Out   ActQuant `json:"out"`
	M0    int32    `json:"m0"`
	Shift int      `json:"shift"`
	QMin  int32    `json:"qmin"`
	QMax  int32    `json:"qmax"`
}

// NewRescale returns the Rescale of count codes from in to out, clamped to
// out's full range.
func NewRescale(in, out ActQuant, count int) (Rescale, error) {
	if err := in.Validate(); err != nil {
		return Rescale{}, fmt.Errorf("rescale input: %w", err)
	}
	if err := out.Validate(); err != nil {
		return Rescale{}, fmt.Errorf("rescale output: %w", err)
	}
	if count < 1 || count > MaxRescaleCount {
		return Rescale{}, invalid("rescale of %d codes, want 1..%d", count, MaxRescaleCount)
	}
	r := Rescale{In: in, Out: out}
	r.M0, r.Shift = fixedpoint.QuantizeMultiplier(float64(in.Scale) / (float64(out.Scale) * float64(count)))
	r.QMin, r.QMax = out.Range()
	return r, nil
}

// Apply rescales the sum acc = Σ (q_in − In.ZeroPoint) to an output code.
func (r *Rescale) Apply(acc int32) int32 {
	return min(max(r.Out.ZeroPoint+fixedpoint.MultiplyByQuantizedMultiplier(acc, r.M0, r.Shift), r.QMin), r.QMax)
}

// check validates r as the rescale of count codes: quantizations,
// multiplier equal to NewRescale's, clamp within the output range.
func (r *Rescale) check(what string, count int) error {
	want, err := NewRescale(r.In, r.Out, count)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if r.M0 != want.M0 || r.Shift != want.Shift {
		return invalid("%s multiplier (%d, %d), want (%d, %d) for S_in/(S_out·%d)", what, r.M0, r.Shift, want.M0, want.Shift, count)
	}
	return validClamp(what, r.QMin, r.QMax, r.Out)
}

func validClamp(what string, qmin, qmax int32, out ActQuant) error {
	lo, hi := out.Range()
	if qmin > qmax || qmin < lo || qmax > hi {
		return invalid("%s clamp [%d, %d] not within the output range [%d, %d]", what, qmin, qmax, lo, hi)
	}
	return nil
}

// Add is a quantized elementwise sum of two tensors of the same shape on
// different grids, with TFLite's int8 ADD semantics:
//
//	twice = 2·max(S_A, S_B)
//	a     = MBQM((q_A − Z_A)·2^LeftShift, M_A = S_A/twice)
//	b     = MBQM((q_B − Z_B)·2^LeftShift, M_B = S_B/twice)
//	q     = clamp(MBQM(a + b, M_out = twice/(2^LeftShift·S_out)) + Z_out, QMin, QMax)
//
// where MBQM is fixedpoint.MultiplyByQuantizedMultiplier and each M is
// (M0, Shift) by QuantizeMultiplier. A fused ReLU/ReLU6 narrows the clamp
// (ClampFor).
type Add struct {
	Name      string   `json:"-"`
	A         ActQuant `json:"a"`
	B         ActQuant `json:"b"`
	Out       ActQuant `json:"out"`
	LeftShift int      `json:"left_shift"`
	M0A       int32    `json:"m0_a"`
	ShiftA    int      `json:"shift_a"`
	M0B       int32    `json:"m0_b"`
	ShiftB    int      `json:"shift_b"`
	M0Out     int32    `json:"m0_out"`
	ShiftOut  int      `json:"shift_out"`
	QMin      int32    `json:"qmin"`
	QMax      int32    `json:"qmax"`
}

// NewAdd returns the Add of a and b into out, clamped to out's full range.
func NewAdd(name string, a, b, out ActQuant) (*Add, error) {
	for _, q := range []struct {
		what string
		a    ActQuant
	}{{"first input", a}, {"second input", b}, {"output", out}} {
		if err := q.a.Validate(); err != nil {
			return nil, fmt.Errorf("add %s: %w", q.what, err)
		}
	}
	twice := 2 * float64(max(a.Scale, b.Scale))
	l := &Add{Name: name, A: a, B: b, Out: out, LeftShift: AddLeftShift}
	l.M0A, l.ShiftA = fixedpoint.QuantizeMultiplier(float64(a.Scale) / twice)
	l.M0B, l.ShiftB = fixedpoint.QuantizeMultiplier(float64(b.Scale) / twice)
	l.M0Out, l.ShiftOut = fixedpoint.QuantizeMultiplier(twice / (float64(int64(1)<<AddLeftShift) * float64(out.Scale)))
	l.QMin, l.QMax = out.Range()
	return l, nil
}

// Apply adds the codes qa and qb (of A and B) into an output code.
func (l *Add) Apply(qa, qb int32) int32 {
	a := fixedpoint.MultiplyByQuantizedMultiplier((qa-l.A.ZeroPoint)<<l.LeftShift, l.M0A, l.ShiftA)
	b := fixedpoint.MultiplyByQuantizedMultiplier((qb-l.B.ZeroPoint)<<l.LeftShift, l.M0B, l.ShiftB)
	q := fixedpoint.MultiplyByQuantizedMultiplier(a+b, l.M0Out, l.ShiftOut) + l.Out.ZeroPoint
	return min(max(q, l.QMin), l.QMax)
}

// Kind returns KindAdd.
func (l *Add) Kind() Kind { return KindAdd }

// LayerName returns l.Name.
func (l *Add) LayerName() string { return l.Name }

// OutShape is in (both inputs have in's shape; Model.Shapes checks both).
func (l *Add) OutShape(in Shape) (Shape, error) { return in, nil }

// OutShapes checks that both inputs have one shape and returns it.
func (l *Add) OutShapes(in []Shape) (Shape, error) {
	if len(in) != 2 {
		return Shape{}, invalid("add takes 2 inputs, got %d", len(in))
	}
	if in[0] != in[1] {
		return Shape{}, invalid("add of shapes %v and %v", in[0], in[1])
	}
	return in[0], nil
}

// validate checks that the multipliers are NewAdd's and the clamp lies in
// the output range.
func (l *Add) validate() error {
	want, err := NewAdd(l.Name, l.A, l.B, l.Out)
	if err != nil {
		return err
	}
	if l.LeftShift != want.LeftShift {
		return invalid("add left shift %d, want %d", l.LeftShift, want.LeftShift)
	}
	if l.M0A != want.M0A || l.ShiftA != want.ShiftA || l.M0B != want.M0B || l.ShiftB != want.ShiftB ||
		l.M0Out != want.M0Out || l.ShiftOut != want.ShiftOut {
		return invalid("add multipliers (%d,%d) (%d,%d) (%d,%d), want (%d,%d) (%d,%d) (%d,%d) from the scales",
			l.M0A, l.ShiftA, l.M0B, l.ShiftB, l.M0Out, l.ShiftOut, want.M0A, want.ShiftA, want.M0B, want.ShiftB, want.M0Out, want.ShiftOut)
	}
	return validClamp("add", l.QMin, l.QMax, l.Out)
}

// Concat joins its inputs along channels (all of one height and width).
// Input k whose quantization equals Out is copied; any other is requantized
// by Requant[k], a Rescale of count 1 from In[k] to Out.
type Concat struct {
	Name    string     `json:"-"`
	In      []ActQuant `json:"in"`
	Out     ActQuant   `json:"out"`
	Requant []Rescale  `json:"requant"`
}

// NewConcat returns the Concat of inputs quantized as in into out.
func NewConcat(name string, in []ActQuant, out ActQuant) (*Concat, error) {
	if len(in) < 2 || len(in) > MaxInputs {
		return nil, invalid("concat of %d inputs, want 2..%d", len(in), MaxInputs)
	}
	l := &Concat{Name: name, In: append([]ActQuant(nil), in...), Out: out, Requant: make([]Rescale, len(in))}
	for k, a := range in {
		r, err := NewRescale(a, out, 1)
		if err != nil {
			return nil, fmt.Errorf("concat input %d: %w", k, err)
		}
		l.Requant[k] = r
	}
	return l, nil
}

// Kind returns KindConcat.
func (l *Concat) Kind() Kind { return KindConcat }

// LayerName returns l.Name.
func (l *Concat) LayerName() string { return l.Name }

// OutShape fails: a Concat has several inputs (see OutShapes).
func (l *Concat) OutShape(in Shape) (Shape, error) {
	return Shape{}, invalid("concat takes %d inputs, got 1", len(l.In))
}

// OutShapes checks that the inputs share height and width and returns
// their channel sum.
func (l *Concat) OutShapes(in []Shape) (Shape, error) {
	if len(in) != len(l.In) {
		return Shape{}, invalid("concat of %d quantizations has %d inputs", len(l.In), len(in))
	}
	out := Shape{0, in[0].H, in[0].W}
	for k, s := range in {
		if s.H != out.H || s.W != out.W {
			return Shape{}, invalid("concat input %d is %v, input 0 is %v (heights and widths must agree)", k, s, in[0])
		}
		out.C += s.C
	}
	if out.C > MaxDim {
		return Shape{}, invalid("concat of %d channels, at most %d", out.C, MaxDim)
	}
	return out, nil
}

func (l *Concat) validate() error {
	if len(l.Requant) != len(l.In) {
		return invalid("concat has %d requantizations for %d inputs", len(l.Requant), len(l.In))
	}
	for k := range l.In {
		r := &l.Requant[k]
		if r.In != l.In[k] || r.Out != l.Out {
			return invalid("concat requantization %d maps %+v → %+v, want %+v → %+v", k, r.In, r.Out, l.In[k], l.Out)
		}
		if err := r.check(fmt.Sprintf("concat requantization %d", k), 1); err != nil {
			return err
		}
	}
	return nil
}

// GlobalAvgPool averages each channel over the whole H×W plane into
// (C, 1, 1): Rescale of count H·W (the multiplier depends on H·W, so
// Model.Shapes checks it against the input's shape).
type GlobalAvgPool struct {
	Name string
	Rescale
}

// NewGlobalAvgPool returns the global average pool of an input of hw =
// H·W positions per channel from in to out.
func NewGlobalAvgPool(name string, in, out ActQuant, hw int) (*GlobalAvgPool, error) {
	r, err := NewRescale(in, out, hw)
	if err != nil {
		return nil, err
	}
	return &GlobalAvgPool{Name: name, Rescale: r}, nil
}

// Kind returns KindGlobalAvgPool.
func (l *GlobalAvgPool) Kind() Kind { return KindGlobalAvgPool }

// LayerName returns l.Name.
func (l *GlobalAvgPool) LayerName() string { return l.Name }

// OutShape is (C, 1, 1).
func (l *GlobalAvgPool) OutShape(in Shape) (Shape, error) { return Shape{in.C, 1, 1}, nil }

// NewAvgPool2dRequant returns an AvgPool2d of geometry p that rescales the
// window sums (count KernelH·KernelW, padding included) from in to out.
func NewAvgPool2dRequant(name string, p Pool2d, in, out ActQuant) (*AvgPool2d, error) {
	r, err := NewRescale(in, out, p.KernelH*p.KernelW)
	if err != nil {
		return nil, err
	}
	return &AvgPool2d{Name: name, Pool2d: p, Requant: &r}, nil
}

// OutAct returns the quantization of l's output when its (first) input is
// quantized as in: a quantized layer's OutAct, an Add's, Concat's or
// pool rescale's Out, otherwise in itself (max pool, flatten, an average
// pool without Requant keep their input's grid). It does not validate l.
func OutAct(l Layer, in ActQuant) ActQuant {
	switch l := l.(type) {
	case *Conv2d:
		return l.OutAct
	case *Linear:
		return l.OutAct
	case *Add:
		return l.Out
	case *Concat:
		return l.Out
	case *GlobalAvgPool:
		return l.Out
	case *AvgPool2d:
		if l.Requant != nil {
			return l.Requant.Out
		}
	}
	return in
}
