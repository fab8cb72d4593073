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
	maxExp      *int
}

// WithGradScaling(true) scales LSQ's scale and zero-point gradients by
// 1/sqrt(N·qmax), N the number of elements of the quantized tensor, as the
// LSQ paper does and PyTorch's _LearnableFakeQuantize does with
// use_grad_scaling=True. The default is off, as in PyTorch (factor 1).
func WithGradScaling(on bool) Option {
	return Option{name: "WithGradScaling", for_: "lsq", set: func(o *options) { o.gradScaling = on }}
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
