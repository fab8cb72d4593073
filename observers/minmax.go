package observers

import (
	"fmt"

	"github.com/qatgo/qatgo/fakequant"
)

// MinMax keeps the running minimum and maximum of everything observed, like
// PyTorch's MinMaxObserver. It is per tensor.
type MinMax struct {
	base
	observed bool
	min, max float32
}

// NewMinMax returns a MinMax observer for the per-tensor scheme s.
func NewMinMax(s fakequant.QScheme) (*MinMax, error) {
	b, err := newBase("minmax", s, fakequant.PerTensor)
	if err != nil {
		return nil, err
	}
	return &MinMax{base: b}, nil
}

// Observe folds the finite values of x into the running range. It does not
// allocate and reads x once.
func (o *MinMax) Observe(x []float32, shape []int) error { return o.observeScan(o, x, shape) }

// ObserveRange is Observe of n finite values whose min is mn and max mx
// (fakequant.RangeObserver: a folded quantizer's producer knows them).
func (o *MinMax) ObserveRange(mn, mx float32, n int) error {
	return o.observeRange(o, mn, mx, n)
}

// update folds a batch's range [mn, mx] into the running one.
func (o *MinMax) update(mn, mx float32) {
	if !o.observed {
		o.min, o.max, o.observed = mn, mx, true
		return
	}
	o.min = min(o.min, mn)
	o.max = max(o.max, mx)
}

// Range returns the running [min, max].
func (o *MinMax) Range() (min, max []float32, err error) {
	if !o.observed {
		return nil, nil, o.notObserved()
	}
	return []float32{o.min}, []float32{o.max}, nil
}

// QParams returns fakequant.QParamsFromRange of Range.
func (o *MinMax) QParams() (fakequant.QParams, error) { return qparams(o) }

// Reset forgets the range and the non-finite count; the frozen flag stays.
func (o *MinMax) Reset() { o.observed, o.min, o.max, o.nonFinite = false, 0, 0, 0 }

// MarshalState saves the observer (see the State layout in state.go).
func (o *MinMax) MarshalState() ([]byte, error) {
	e := o.header()
	e.boolean(o.observed)
	e.f32(o.min)
	e.f32(o.max)
	return e.finish(), nil
}

// UnmarshalState restores a state saved by a MinMax observer with the same
// scheme; on error the observer is unchanged.
func (o *MinMax) UnmarshalState(state []byte) error {
	d, frozen, nf := o.open(state)
	observed := d.boolean("observed")
	mn, mx := d.f32("min"), d.f32("max")
	if observed {
		d.finiteRange(mn, mx, "range")
	}
	if err := d.done(); err != nil {
		return err
	}
	o.frozen, o.nonFinite, o.observed, o.min, o.max = frozen, nf, observed, mn, mx
	return nil
}

// MovingAverageMinMax keeps an exponential moving average of each batch's
// min and max, like PyTorch's MovingAverageMinMaxObserver: the first batch
// is taken as-is, later ones update min += c·(batch_min − min) and likewise
// max, in float32. It is per tensor.
type MovingAverageMinMax struct {
	base
	c        float32
	observed bool
	min, max float32
}

// NewMovingAverageMinMax returns a moving-average observer with averaging
// constant c in (0, 1] (DefaultAveragingConstant is PyTorch's 0.01) for the
// per-tensor scheme s.
func NewMovingAverageMinMax(s fakequant.QScheme, c float32) (*MovingAverageMinMax, error) {
	b, err := newBase("ema", s, fakequant.PerTensor)
	if err != nil {
		return nil, err
	}
	if err := checkConstant(c); err != nil {
		return nil, err
	}
	return &MovingAverageMinMax{base: b, c: c}, nil
}

func checkConstant(c float32) error {
	if !(c > 0 && c <= 1) {
		return fmt.Errorf("observers: averaging constant %g outside (0, 1]", c)
	}
	return nil
}

// AveragingConstant returns c.
func (o *MovingAverageMinMax) AveragingConstant() float32 { return o.c }

// Observe updates the moving averages with the finite values of x. It does
// not allocate and reads x once.
func (o *MovingAverageMinMax) Observe(x []float32, shape []int) error {
	return o.observeScan(o, x, shape)
}

// ObserveRange is Observe of n finite values whose min is mn and max mx
// (fakequant.RangeObserver).
func (o *MovingAverageMinMax) ObserveRange(mn, mx float32, n int) error {
	return o.observeRange(o, mn, mx, n)
}

// update moves the averages towards a batch's range [mn, mx] (the first
// batch sets them).
func (o *MovingAverageMinMax) update(mn, mx float32) {
	if !o.observed {
		o.min, o.max, o.observed = mn, mx, true
		return
	}
	// The explicit conversions round the product, so that no platform
	// fuses it into an FMA and the numbers match PyTorch's float32 ones.
	o.min += float32(o.c * (mn - o.min))
	o.max += float32(o.c * (mx - o.max))
}

// Range returns the averaged [min, max].
func (o *MovingAverageMinMax) Range() (min, max []float32, err error) {
	if !o.observed {
		return nil, nil, o.notObserved()
	}
	return []float32{o.min}, []float32{o.max}, nil
}

// QParams returns fakequant.QParamsFromRange of Range.
func (o *MovingAverageMinMax) QParams() (fakequant.QParams, error) { return qparams(o) }

// Reset forgets the averages and the non-finite count; the frozen flag and
// c stay.
func (o *MovingAverageMinMax) Reset() { o.observed, o.min, o.max, o.nonFinite = false, 0, 0, 0 }

// MarshalState saves the observer (see the State layout in state.go).
func (o *MovingAverageMinMax) MarshalState() ([]byte, error) {
	e := o.header()
	e.f32(o.c)
	e.boolean(o.observed)
	e.f32(o.min)
	e.f32(o.max)
	return e.finish(), nil
}

// UnmarshalState restores a state saved by a MovingAverageMinMax observer
// with the same scheme and averaging constant; on error the observer is
// unchanged.
func (o *MovingAverageMinMax) UnmarshalState(state []byte) error {
	d, frozen, nf := o.open(state)
	if c := d.f32("averaging constant"); d.err == nil && c != o.c {
		d.fail("averaging constant %g, observer has %g", c, o.c)
	}
	observed := d.boolean("observed")
	mn, mx := d.f32("min"), d.f32("max")
	if observed {
		d.finiteRange(mn, mx, "range")
	}
	if err := d.done(); err != nil {
		return err
	}
	o.frozen, o.nonFinite, o.observed, o.min, o.max = frozen, nf, observed, mn, mx
	return nil
}

// ranger is the part of an observer qparams needs.
type ranger interface {
	Range() (min, max []float32, err error)
	Scheme() fakequant.QScheme
}

func qparams(o ranger) (fakequant.QParams, error) {
	mn, mx, err := o.Range()
	if err != nil {
		return fakequant.QParams{}, err
	}
	return fakequant.QParamsFromRange(o.Scheme(), mn, mx)
}
