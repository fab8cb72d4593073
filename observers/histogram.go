package observers

import (
	"fmt"

	"github.com/qatgo/qatgo/fakequant"
)

// Histogram clips the range to percentiles of the data: it keeps a
// histogram whose range grows as data arrives (see hist) and reports
// [percentile(low), percentile(high)], interpolated linearly inside a bin
// and kept within the data's true [min, max]. QParamsFromRange then widens
// the range to include 0. It is per tensor.
//
// Percentile clipping is what NVIDIA's pytorch-quantization calls the
// "percentile" calibrator; PyTorch's own HistogramObserver instead searches
// for an L2-optimal range (see MSE).
type Histogram struct {
	base
	low, high float64
	hc        histCore
}

// NewHistogram returns a percentile observer for the per-tensor scheme s
// with the given number of bins (2..2^20; DefaultBins) and percentiles in
// percent, 0 <= low < high <= 100 (DefaultLowPercentile,
// DefaultHighPercentile).
func NewHistogram(s fakequant.QScheme, bins int, low, high float64) (*Histogram, error) {
	b, err := newBase("histogram", s, fakequant.PerTensor)
	if err != nil {
		return nil, err
	}
	if err := checkBins(bins); err != nil {
		return nil, err
	}
	if !(0 <= low && low < high && high <= 100) {
		return nil, fmt.Errorf("observers: histogram percentiles %g, %g: want 0 <= low < high <= 100", low, high)
	}
	return &Histogram{base: b, low: low, high: high, hc: histCore{h: newHist(bins)}}, nil
}

// Percentiles returns the low and high percentiles, in percent.
func (o *Histogram) Percentiles() (low, high float64) { return o.low, o.high }

// Observe adds the finite values of x to the histogram: two passes over x
// (range, then counting), no allocation unless the histogram grows.
func (o *Histogram) Observe(x []float32, shape []int) error {
	if o.frozen {
		return nil
	}
	return o.hc.observe(&o.base, x, shape)
}

// Range returns [percentile(low), percentile(high)] of the data seen.
func (o *Histogram) Range() (min, max []float32, err error) {
	if !o.hc.observed() {
		return nil, nil, o.notObserved()
	}
	lo := o.hc.clamp(o.hc.h.percentile(o.low))
	hi := o.hc.clamp(o.hc.h.percentile(o.high))
	return []float32{lo}, []float32{hi}, nil
}

// clamp rounds v to float32 inside the data range.
func (c *histCore) clamp(v float64) float32 {
	return min(max(float32(v), c.dmin), c.dmax)
}

// QParams returns fakequant.QParamsFromRange of Range.
func (o *Histogram) QParams() (fakequant.QParams, error) { return qparams(o) }

// Reset forgets the histogram and the non-finite count; the frozen flag
// and the configuration stay.
func (o *Histogram) Reset() { o.hc.reset(); o.nonFinite = 0 }

// MarshalState saves the observer (see the State layout in state.go).
func (o *Histogram) MarshalState() ([]byte, error) {
	e := o.header()
	e.f64(o.low)
	e.f64(o.high)
	o.hc.encode(e)
	return e.finish(), nil
}

// UnmarshalState restores a state saved by a Histogram observer with the
// same scheme, bins and percentiles; on error the observer is unchanged.
func (o *Histogram) UnmarshalState(state []byte) error {
	d, frozen, nf := o.open(state)
	low, high := d.f64("low percentile"), d.f64("high percentile")
	if d.err == nil && (low != o.low || high != o.high) {
		d.fail("percentiles %g/%g, observer has %g/%g", low, high, o.low, o.high)
	}
	hc := o.hc.decode(d)
	if err := d.done(); err != nil {
		return err
	}
	hc.h.tmp = o.hc.h.tmp
	o.frozen, o.nonFinite, o.hc = frozen, nf, hc
	return nil
}
