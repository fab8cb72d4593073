package fakequant

import (
	"math"
	"strings"

	"github.com/qatgo/qatgo/numerics"
	G "gorgonia.org/gorgonia"
)

// Float simulates a tensor stored in a narrower floating-point format (FP16,
// BF16, TF32, FP8 E4M3/E5M2): every value is rounded to the nearest value of
// the format (ties to even, subnormals, overflow as the format says). The
// gradient passes straight through where the value is within the format's
// finite range and is zero where it overflowed (to ±Inf or, for E4M3, to the
// saturation value), like the clipping mask of integer fake quantization.
// No observer is needed: a float format has no range to calibrate.
type Float struct {
	format  numerics.Format
	enabled bool
}

// NewFloat returns a quantizer that rounds to f.
func NewFloat(f numerics.Format) (*Float, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &Float{format: f, enabled: true}, nil
}

// Format is the simulated format.
func (q *Float) Format() numerics.Format { return q.format }

// Apply inserts the rounding of x. b is not used.
func (q *Float) Apply(_ Binder, x *G.Node) (*G.Node, error) {
	if err := checkNode(x, QScheme{Bits: 8}); err != nil {
		return nil, err
	}
	return G.ApplyOp(&steOp{q: q, dims: x.Dims()}, x)
}

// SetObserving does nothing: a float format has no observed range.
func (q *Float) SetObserving(bool) {}

// SetEnabled turns rounding on or off (identity).
func (q *Float) SetEnabled(on bool) { q.enabled = on }

// QParams returns ErrNotLinear: a float format has no scale and zero point.
func (q *Float) QParams() (QParams, error) { return QParams{}, ErrNotLinear }

func (q *Float) ste32(dst []float32, mask []bool, src []float32, _ []int) error {
	if !q.enabled {
		passThrough(dst, mask, src)
		return nil
	}
	numerics.RoundSlice(dst, src, q.format)
	if mask != nil {
		lim := q.overflowAt()
		for i, v := range src {
			mask[i] = math.Abs(float64(v)) < lim
		}
	}
	return nil
}

func (q *Float) ste64(dst []float64, mask []bool, src []float64, _ []int, _ *roundHook) error {
	if !q.enabled {
		passThrough(dst, mask, src)
		return nil
	}
	lim := q.overflowAt()
	for i, v := range src {
		dst[i] = float64(q.format.Round(float32(v)))
		if mask != nil {
			mask[i] = math.Abs(v) < lim
		}
	}
	return nil
}

// overflowAt is the magnitude from which rounding overflows: the largest
// finite value plus half its ulp (a tie there rounds to even, away from it).
// E4M3 saturates instead of overflowing, from the same point on.
func (q *Float) overflowAt() float64 {
	m := float64(q.format.MaxFinite())
	_, e := math.Frexp(m) // m = f·2^e, f in [0.5, 1)
	return m + math.Ldexp(0.5, e-1-q.format.MantBits)
}

// MarshalState saves the format and the flag.
func (q *Float) MarshalState() ([]byte, error) {
	return encodeState(quantState{Kind: "float:" + strings.ToLower(q.format.Name), Enabled: q.enabled})
}

// UnmarshalState restores what MarshalState saved for the same format.
func (q *Float) UnmarshalState(b []byte) error {
	s, err := decodeState(b, "float:"+strings.ToLower(q.format.Name))
	if err != nil {
		return err
	}
	q.enabled = s.Enabled
	return nil
}

// String names the format, e.g. "bf16".
func (q *Float) String() string { return strings.ToLower(q.format.Name) }

var _ Quantizer = (*Float)(nil)
