package observers

import (
	"fmt"
	"math"

	"github.com/qatgo/qatgo/fakequant"
)

// MSE chooses the clipping range whose quantization grid minimises the mean
// squared error between the data and its fake-quantized values. It is per
// tensor and works on a histogram (see hist), so the search costs
// O(bins) per candidate range, not O(data).
//
// The error of a candidate range is computed exactly for the histogram,
// taking each bin's count as spread uniformly over the bin: with S, Z the
// parameters QParamsFromRange gives for the candidate and [rlo, rhi] =
// [(qmin−Z)·S, (qmax−Z)·S] the representable interval, a bin [a, b]
// contributes count/(b−a) · ∫_a^b (x − Q(x))² dx, where the clipped parts
// integrate (x − rlo)² and (x − rhi)², and the part inside integrates the
// rounding error S³·∫(y − round(y))² dy in code units y = x/S + Z, which
// has a closed form (1/12 per whole step). Clipping and rounding error are
// thus both counted, which comparing bin centres alone would miss.
//
// The search, with N = steps and [L, H] = the data range widened to 0:
//   - symmetric schemes: t = max(|L|, |H|)·i/N for i = N..1, range [−t, t]
//     (reported as [max(min, −t), min(max, t)]);
//   - affine schemes: first the shrunken ranges [L·i/N, H·i/N], i = N..1;
//     then coordinate descent from the best one: the best lower end
//     L·i/N (i = N..0) with the upper end fixed, then the best upper end
//     H·i/N with the lower fixed, repeated until nothing changes (at most 4
//     rounds), so that one-sided outliers are clipped on one side only.
//
// Ties keep the wider range. The result is cached until the next Observe;
// Range costs about (N + 8·(N+1))·bins bin evaluations for affine schemes
// (N·bins for symmetric ones): a few milliseconds at the defaults, which
// suits calibration rather than every training step.
type MSE struct {
	base
	steps      int
	hc         histCore
	cached     bool
	cmin, cmax float32
}

// NewMSE returns an MSE observer for the per-tensor scheme s with the given
// histogram bins (DefaultBins) and candidate steps per search line, 1..10000
// (DefaultMSESteps).
func NewMSE(s fakequant.QScheme, bins, steps int) (*MSE, error) {
	b, err := newBase("mse", s, fakequant.PerTensor)
	if err != nil {
		return nil, err
	}
	if err := checkBins(bins); err != nil {
		return nil, err
	}
	if steps < 1 || steps > 10000 {
		return nil, fmt.Errorf("observers: %d MSE search steps, want 1..10000", steps)
	}
	return &MSE{base: b, steps: steps, hc: histCore{h: newHist(bins)}}, nil
}

// Steps returns the number of candidates per search line.
func (o *MSE) Steps() int { return o.steps }

// Observe adds the finite values of x to the histogram.
func (o *MSE) Observe(x []float32, shape []int) error {
	if o.frozen {
		return nil
	}
	o.cached = false
	return o.hc.observe(&o.base, x, shape)
}

// Range returns the MSE-optimal range found by the search.
func (o *MSE) Range() (min, max []float32, err error) {
	if !o.hc.observed() {
		return nil, nil, o.notObserved()
	}
	if !o.cached {
		o.cmin, o.cmax = o.search()
		o.cached = true
	}
	return []float32{o.cmin}, []float32{o.cmax}, nil
}

// MeanSquaredError returns the expected mean squared quantization error of
// the histogram seen so far for the range [lo, hi] (the quantity the search
// minimises).
func (o *MSE) MeanSquaredError(lo, hi float32) (float64, error) {
	if !o.hc.observed() {
		return 0, o.notObserved()
	}
	p, err := fakequant.QParamsFromRange(o.s, []float32{lo}, []float32{hi})
	if err != nil {
		return 0, err
	}
	qmin, qmax := o.s.QRange()
	return o.hc.h.sqErr(p.Scale[0], p.ZeroPoint[0], qmin, qmax), nil
}

func (o *MSE) search() (lo, hi float32) {
	dmin, dmax := o.hc.dmin, o.hc.dmax
	L, H := min(dmin, 0), max(dmax, 0)
	if L == H {
		return dmin, dmax
	}
	qmin, qmax := o.s.QRange()
	eval := func(lo, hi float32) float64 {
		p, err := fakequant.QParamsFromRange(o.s, []float32{lo}, []float32{hi})
		if err != nil {
			return math.Inf(1)
		}
		return o.hc.h.sqErr(p.Scale[0], p.ZeroPoint[0], qmin, qmax)
	}
	n := float64(o.steps)
	frac := func(v float32, i int) float32 { return float32(float64(v) * float64(i) / n) }
	best := math.Inf(1)
	try := func(l, h float32) bool {
		if e := eval(l, h); e < best {
			best, lo, hi = e, l, h
			return true
		}
		return false
	}
	if o.s.Symmetric {
		m := max(-L, H)
		for i := o.steps; i >= 1; i-- {
			t := frac(m, i)
			try(max(dmin, -t), min(dmax, t))
		}
		return lo, hi
	}
	for i := o.steps; i >= 1; i-- {
		try(frac(L, i), frac(H, i))
	}
	for round := 0; round < 4; round++ {
		changed := false
		h := hi
		for i := o.steps; i >= 0; i-- {
			if try(frac(L, i), h) {
				changed = true
			}
		}
		l := lo
		for i := o.steps; i >= 0; i-- {
			if try(l, frac(H, i)) {
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return lo, hi
}

// sqErr is the mean squared error of quantizing the histogram (uniform
// within bins) on the grid (scale, zp, qmin..qmax); see MSE.
func (h *hist) sqErr(scale float32, zp, qmin, qmax int32) float64 {
	S, Z := float64(scale), float64(zp)
	rlo, rhi := (float64(qmin)-Z)*S, (float64(qmax)-Z)*S
	if h.width == 0 {
		v := h.lo
		q := math.Min(math.Max(math.RoundToEven(v/S+Z), float64(qmin)), float64(qmax))
		d := v - (q-Z)*S
		return d * d
	}
	S3 := S * S * S
	sum := 0.0
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		a := h.lo + float64(i)*h.width
		b := a + h.width
		seg := 0.0
		if a < rlo {
			u := math.Min(b, rlo)
			seg += (cube(u-rlo) - cube(a-rlo)) / 3
		}
		if b > rhi {
			u := math.Max(a, rhi)
			seg += (cube(b-rhi) - cube(u-rhi)) / 3
		}
		if u, v := math.Max(a, rlo), math.Min(b, rhi); v > u {
			seg += S3 * (roundErrIntegral(v/S+Z) - roundErrIntegral(u/S+Z))
		}
		sum += float64(c) * seg
	}
	return sum / h.width / float64(h.total)
}

func cube(x float64) float64 { return x * x * x }

// roundErrIntegral is ∫_{-1/2}^{y} (t − round(t))² dt: each whole step adds
// 1/12, and the partial step from n−1/2 to y = n+f adds (f³ + 1/8)/3.
func roundErrIntegral(y float64) float64 {
	n := math.Floor(y + 0.5)
	f := y - n
	return n/12 + (f*f*f+0.125)/3
}

// Reset forgets the histogram and the non-finite count; the frozen flag
// and the configuration stay.
func (o *MSE) Reset() { o.hc.reset(); o.nonFinite = 0; o.cached = false }

// QParams returns fakequant.QParamsFromRange of Range.
func (o *MSE) QParams() (fakequant.QParams, error) { return qparams(o) }

// MarshalState saves the observer (see the State layout in state.go).
func (o *MSE) MarshalState() ([]byte, error) {
	e := o.header()
	e.u32(uint32(o.steps))
	o.hc.encode(e)
	return e.finish(), nil
}

// UnmarshalState restores a state saved by an MSE observer with the same
// scheme, bins and steps; on error the observer is unchanged.
func (o *MSE) UnmarshalState(state []byte) error {
	d, frozen, nf := o.open(state)
	if steps := int(d.u32("steps")); d.err == nil && steps != o.steps {
		d.fail("%d steps, observer has %d", steps, o.steps)
	}
	hc := o.hc.decode(d)
	if err := d.done(); err != nil {
		return err
	}
	hc.h.tmp = o.hc.h.tmp
	o.frozen, o.nonFinite, o.hc, o.cached = frozen, nf, hc, false
	return nil
}
