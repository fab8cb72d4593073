package nn

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/qatgo/qatgo/codebook"
	"gorgonia.org/tensor"
)

// Param is a persistent tensor of a model, shared by every graph the model is
// compiled into. Update Value in place (its backing slice); never replace the
// tensor after Compile, or the graphs keep the old one.
type Param struct {
	Name      string        // unique, e.g. "conv1.weight", "conv1.weight.scale", "bn1.running_mean"
	Value     *tensor.Dense // float32 (float64 in gradient-check builds)
	Grad      *tensor.Dense // filled by Net.Step for trainable params, same shape; nil otherwise
	Trainable bool
	Decay     bool    // weight decay applies (conv/linear weights yes; biases, BN, quantizer params no)
	LRScale   float32 // learning-rate multiplier, 1 by default

	// Mask, when set, marks the weights kept by pruning (false: held at
	// zero); see ApplyMask. Deep Compression state, in compression.go.
	Mask []bool
	// shared is the codebook whose output replaces Value in the graphs
	// (weight sharing, see Share); nil for an ordinary parameter.
	shared      *codebook.Codebook
	sharedTrain bool // Trainable before Share
}

// newParam returns a zero float32 parameter. A size below 1 (a constructor
// called with a zero or negative size) becomes 1, so that construction
// never panics: Build then reports the size against its input.
func newParam(name string, trainable, decay bool, shape ...int) *Param {
	shape = append([]int(nil), shape...)
	for i, d := range shape {
		shape[i] = max(d, 1)
	}
	p := &Param{
		Name:      name,
		Value:     tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32)),
		Trainable: trainable,
		Decay:     decay,
		LRScale:   1,
	}
	if trainable {
		p.Grad = tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	}
	return p
}

// fill sets every element of p to v.
func (p *Param) fill(v float64) {
	switch d := p.Value.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v)
		}
	case []float64:
		for i := range d {
			d[i] = v
		}
	}
}

// uniform fills p with U(-bound, bound) drawn from rng, in order.
func (p *Param) uniform(rng *rand.Rand, bound float64) {
	switch d := p.Value.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32((2*rng.Float64() - 1) * bound)
		}
	case []float64:
		for i := range d {
			d[i] = (2*rng.Float64() - 1) * bound
		}
	}
}

// Float32s returns a copy of p's values as float32.
func (p *Param) Float32s() []float32 { return toF32(p.Value) }

func toF32(t *tensor.Dense) []float32 {
	switch d := t.Data().(type) {
	case []float32:
		return append([]float32(nil), d...)
	case []float64:
		out := make([]float32, len(d))
		for i, v := range d {
			out[i] = float32(v)
		}
		return out
	}
	return nil
}

// setF32 copies src into t, converting.
func setF32(t *tensor.Dense, src []float32) error {
	switch d := t.Data().(type) {
	case []float32:
		if len(d) != len(src) {
			return fmt.Errorf("nn: %d values for a tensor of %d", len(src), len(d))
		}
		copy(d, src)
	case []float64:
		if len(d) != len(src) {
			return fmt.Errorf("nn: %d values for a tensor of %d", len(src), len(d))
		}
		for i, v := range src {
			d[i] = float64(v)
		}
	default:
		return fmt.Errorf("nn: unsupported dtype %v", t.Dtype())
	}
	return nil
}

// kaimingUniform initialises a conv or linear weight and bias as PyTorch's
// reset_parameters does: weight ~ kaiming_uniform(a=√5), which is
// U(-1/√fan_in, 1/√fan_in), and bias ~ U(-1/√fan_in, 1/√fan_in).
//
// A nil rng draws from a generator seeded with 1, so that a forgotten
// generator gives a reproducible model instead of a panic.
func kaimingUniform(rng *rand.Rand, w, b *Param, fanIn int) {
	if rng == nil {
		rng = rand.New(rand.NewSource(1))
	}
	bound := 1 / math.Sqrt(float64(max(fanIn, 1)))
	// gain = √(2/(1+a²)) with a = √5; bound_w = gain·√(3/fan_in) = 1/√fan_in.
	w.uniform(rng, bound)
	if b != nil {
		b.uniform(rng, bound)
	}
}
