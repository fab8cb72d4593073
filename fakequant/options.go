package fakequant

import "fmt"

// Option configures a quantizer constructor. Each option applies to some
// quantizers only; giving one to another constructor is an error.
type Option struct {
	name string
	for_ string // "lsq" or "pot"
	set  func(*options)
}

type options struct {
	gradScaling bool
	gradFactor  float64 // > 0: fixed LSQ gradient factor
	meanInit    bool
	batchAxis   bool
	maxExp      *int
}

// WithGradScaling(true) scales LSQ's scale and zero-point gradients by
// g = 1/sqrt(N·Qp), as the LSQ paper does (PyTorch's _LearnableFakeQuantize
// with use_grad_scaling=True uses the same factor). Qp is the grid's
// largest code; N is the number of elements one step is learned from: the
// whole tensor per tensor, one channel's elements per channel (each
// channel's step sums the gradient of its own elements only), and with
// WithBatchAxis one sample's elements (the paper's "features" of an
// activation layer). The default is off, as in PyTorch (factor 1).
func WithGradScaling(on bool) Option {
	return Option{name: "WithGradScaling", for_: "lsq", set: func(o *options) { o.gradScaling = on }}
}

// WithMeanInit(true) initialises the step from the first observed batch by
// the LSQ paper's rule S = 2·mean|x|/√Qp (per channel for per-channel
// schemes) instead of the observer's range. For affine schemes the data are
// first shifted by their minimum m (m ≤ 0, so ReLU outputs are unshifted):
// S = 2·mean|x−m|/√(qmax−qmin), Z = qmin − round(m/S), the learned offset
// starting at the data's minimum (LSQ+).
func WithMeanInit(on bool) Option {
	return Option{name: "WithMeanInit", for_: "lsq", set: func(o *options) { o.meanInit = on }}
}

// WithBatchAxis(true) says that axis 0 of the quantized tensor is the batch
// (an activation), so the gradient scale's N counts one sample's elements.
func WithBatchAxis(on bool) Option {
	return Option{name: "WithBatchAxis", for_: "lsq", set: func(o *options) { o.batchAxis = on }}
}

// WithGradFactor fixes LSQ's gradient factor (overrides WithGradScaling).
func WithGradFactor(f float64) Option {
	return Option{name: "WithGradFactor", for_: "lsq", set: func(o *options) { o.gradFactor = f }}
}

// WithMaxExp fixes a power-of-two quantizer's largest exponent instead of
// deriving it from the largest |x| observed.
func WithMaxExp(e int) Option {
	return Option{name: "WithMaxExp", for_: "pot", set: func(o *options) { o.maxExp = &e }}
}

func applyOptions(kind string, opts []Option) (options, error) {
	var o options
	for _, op := range opts {
		if op.set == nil {
			return o, fmt.Errorf("fakequant: zero Option given to the %s quantizer", kind)
		}
		if op.for_ != kind {
			return o, fmt.Errorf("fakequant: option %s does not apply to the %s quantizer", op.name, kind)
		}
		op.set(&o)
	}
	if o.gradFactor < 0 || o.gradFactor != o.gradFactor {
		return o, fmt.Errorf("fakequant: LSQ gradient factor %g, want >= 0", o.gradFactor)
	}
	return o, nil
}
