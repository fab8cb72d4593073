package observers

import (
	"fmt"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/internal/parallel"
)

// channels is the per-channel state shared by the two per-channel
// observers: the range of each channel and scratch space for one batch,
// allocated with the first batch so that Observe does not allocate after it.
type channels struct {
	observed   bool
	min, max   []float32
	bmin, bmax []float32 // the current batch's per-channel range
}

// scanBatch fills c.bmin/c.bmax with x's per-channel range along b.s.Axis
// and counts non-finite values; on error the observed range is untouched.
// A channel without a finite value in this batch keeps +Inf/-Inf in the
// scratch range, and is an error only if it has never had data.
func (c *channels) scanBatch(b *base, x []float32, shape []int) error {
	if err := checkBatch(b.kind, x, shape); err != nil {
		return err
	}
	axis := b.s.Axis
	if axis >= len(shape) {
		return fmt.Errorf("%w: %s observer: channel axis %d but shape %v has %d dimensions", ErrShape, b.kind, axis, shape, len(shape))
	}
	nc := shape[axis]
	if c.observed && nc != len(c.min) {
		return fmt.Errorf("%w: %s observer: batch of shape %v has %d channels along axis %d, earlier batches had %d", ErrChannels, b.kind, shape, nc, axis, len(c.min))
	}
	if len(c.bmin) != nc {
		c.bmin, c.bmax = make([]float32, nc), make([]float32, nc)
	}
	for i := range c.bmin {
		c.bmin[i], c.bmax[i] = posInf, negInf
	}
	inner := 1
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	bad := 0
	if inner == 1 {
		// Channels are the innermost axis: one pass over rows of nc values.
		for row := x; len(row) >= nc; row = row[nc:] {
			r := row[:nc]
			for i, v := range r {
				if !finite(v) {
					bad++
					continue
				}
				if v < c.bmin[i] {
					c.bmin[i] = v
				}
				if v > c.bmax[i] {
					c.bmax[i] = v
				}
			}
		}
	} else {
		for off := 0; off < len(x); {
			for i := 0; i < nc; i++ {
				mn, mx, nb := scan(x[off : off+inner])
				off += inner
				bad += nb
				c.bmin[i] = min(c.bmin[i], mn)
				c.bmax[i] = max(c.bmax[i], mx)
			}
		}
	}
	b.nonFinite += int64(bad)
	if bad == len(x) {
		return b.noFinite(len(x))
	}
	if !c.observed {
		for i, v := range c.bmin {
			if v == posInf {
				return fmt.Errorf("%w: %s observer: channel %d of %d has only NaN/±Inf in its first batch", ErrNoFiniteValues, b.kind, i, nc)
			}
		}
	}
	return nil
}

// observeRows is Observe for a batch whose channels are its rows (axis 0),
// one row at a time: fold(i, mn, mx) updates channel i with the row's
// finite range (+Inf, -Inf when it has none, as scanBatch leaves it), then
// use gets the row and the channel's new range while the row is in cache.
// Rows split between the cores as scan splits values. It declines (false)
// where Observe must run: frozen, before the first batch (which fixes the
// channel count and may fail per channel), or channels on another axis.
func (c *channels) observeRows(b *base, x []float32, shape []int, fold func(i int, mn, mx float32), use func(i int, row []float32, mn, mx float32)) (bool, error) {
	if b.frozen || !c.observed || b.s.Axis != 0 || len(shape) == 0 || shape[0] != len(c.min) {
		return false, nil
	}
	if err := checkBatch(b.kind, x, shape); err != nil {
		return false, err
	}
	nc := shape[0]
	inner := len(x) / nc
	rows := func(lo, hi int) int {
		bad := 0
		for i := lo; i < hi; i++ {
			row := x[i*inner : (i+1)*inner]
			mn, mx, nb := scanOne(row)
			bad += nb
			fold(i, mn, mx)
			use(i, row, c.min[i], c.max[i])
		}
		return bad
	}
	bad := 0
	if k := parallel.Chunks(len(x), scanGrain); k > 1 && nc >= k {
		bads := make([]int, k)
		parallel.For(nc, k, 1, func(w, lo, hi int) { bads[w] = rows(lo, hi) })
		for _, v := range bads {
			bad += v
		}
	} else {
		bad = rows(0, nc)
	}
	b.nonFinite += int64(bad)
	if bad == len(x) {
		// Every channel kept its range (fold skips empty rows).
		return true, b.noFinite(len(x))
	}
	return true, nil
}

func (c *channels) reset() {
	c.observed = false
	c.min, c.max = nil, nil
}

func (c *channels) rangeCopy(b *base) (min, max []float32, err error) {
	if !c.observed {
		return nil, nil, b.notObserved()
	}
	return append([]float32(nil), c.min...), append([]float32(nil), c.max...), nil
}

func (c *channels) first() {
	c.min = append(c.min[:0], c.bmin...)
	c.max = append(c.max[:0], c.bmax...)
	c.observed = true
}

func (c *channels) encode(e *encoder) {
	e.boolean(c.observed)
	e.f32s(c.min)
	e.f32s(c.max)
}

func (c *channels) decode(d *decoder) (observed bool, mn, mx []float32) {
	observed = d.boolean("observed")
	mn, mx = d.f32s("min"), d.f32s("max")
	if d.err != nil {
		return
	}
	if len(mn) != len(mx) {
		d.fail("%d channel minima but %d maxima", len(mn), len(mx))
	}
	if observed && len(mn) == 0 {
		d.fail("observed but no channels")
	}
	if !observed && len(mn) != 0 {
		d.fail("not observed but %d channels", len(mn))
	}
	for i := range mn {
		if d.err == nil {
			d.finiteRange(mn[i], mx[i], fmt.Sprintf("channel %d range", i))
		}
	}
	return
}

// PerChannelMinMax keeps the running min and max of each slice along the
// scheme's Axis, like PyTorch's PerChannelMinMaxObserver. The channel count
// is fixed by the first batch.
type PerChannelMinMax struct {
	base
	ch channels
}

// NewPerChannelMinMax returns a per-channel min-max observer for the
// per-channel scheme s.
func NewPerChannelMinMax(s fakequant.QScheme) (*PerChannelMinMax, error) {
	b, err := newBase("minmax-per-channel", s, fakequant.PerChannel)
	if err != nil {
		return nil, err
	}
	return &PerChannelMinMax{base: b}, nil
}

// Observe folds x's per-channel ranges into the running ones. A channel with
// no finite value in this batch (but data before) keeps its range. It does
// not allocate after the first batch.
func (o *PerChannelMinMax) Observe(x []float32, shape []int) error {
	if o.frozen {
		return nil
	}
	if err := o.ch.scanBatch(&o.base, x, shape); err != nil {
		return err
	}
	if !o.ch.observed {
		o.ch.first()
		return nil
	}
	for i, v := range o.ch.bmin {
		o.fold(i, v, o.ch.bmax[i])
	}
	return nil
}

// fold widens channel i's running range by a batch's range mn, mx
// (+Inf, −Inf where the batch had no finite value: no change).
func (o *PerChannelMinMax) fold(i int, mn, mx float32) {
	o.ch.min[i] = min(o.ch.min[i], mn)
	o.ch.max[i] = max(o.ch.max[i], mx)
}

// ObserveRows implements fakequant.RowObserver: Observe, a row (channel)
// at a time, each row handed to use with its new range.
func (o *PerChannelMinMax) ObserveRows(x []float32, shape []int, use func(c int, row []float32, mn, mx float32)) (bool, error) {
	return o.ch.observeRows(&o.base, x, shape, o.fold, use)
}

// Range returns copies of the per-channel running minima and maxima.
func (o *PerChannelMinMax) Range() (min, max []float32, err error) { return o.ch.rangeCopy(&o.base) }

// QParams returns fakequant.QParamsFromRange of Range: one scale and zero
// point per channel.
func (o *PerChannelMinMax) QParams() (fakequant.QParams, error) { return qparams(o) }

// Reset forgets the ranges, the channel count and the non-finite count; the
// frozen flag stays.
func (o *PerChannelMinMax) Reset() { o.ch.reset(); o.nonFinite = 0 }

// MarshalState saves the observer (see the State layout in state.go).
func (o *PerChannelMinMax) MarshalState() ([]byte, error) {
	e := o.header()
	o.ch.encode(e)
	return e.finish(), nil
}

// UnmarshalState restores a state saved by a PerChannelMinMax observer with
// the same scheme; on error the observer is unchanged.
func (o *PerChannelMinMax) UnmarshalState(state []byte) error {
	d, frozen, nf := o.open(state)
	observed, mn, mx := o.ch.decode(d)
	if err := d.done(); err != nil {
		return err
	}
	o.frozen, o.nonFinite = frozen, nf
	o.ch.observed, o.ch.min, o.ch.max = observed, mn, mx
	return nil
}

// PerChannelMovingAverageMinMax keeps a moving average of each channel's
// batch min and max (PyTorch's PerChannelMovingAverageMinMaxObserver): the
// first batch is taken as-is, then min += c·(batch_min − min) per channel.
// A channel with no finite value in a batch is not updated by it.
type PerChannelMovingAverageMinMax struct {
	base
	c  float32
	ch channels
}

// NewPerChannelMovingAverageMinMax returns a per-channel moving-average
// observer with averaging constant c in (0, 1] for the per-channel scheme s.
func NewPerChannelMovingAverageMinMax(s fakequant.QScheme, c float32) (*PerChannelMovingAverageMinMax, error) {
	b, err := newBase("ema-per-channel", s, fakequant.PerChannel)
	if err != nil {
		return nil, err
	}
	if err := checkConstant(c); err != nil {
		return nil, err
	}
	return &PerChannelMovingAverageMinMax{base: b, c: c}, nil
}

// AveragingConstant returns c.
func (o *PerChannelMovingAverageMinMax) AveragingConstant() float32 { return o.c }

// Observe updates the per-channel moving averages. It does not allocate
// after the first batch.
func (o *PerChannelMovingAverageMinMax) Observe(x []float32, shape []int) error {
	if o.frozen {
		return nil
	}
	if err := o.ch.scanBatch(&o.base, x, shape); err != nil {
		return err
	}
	if !o.ch.observed {
		o.ch.first()
		return nil
	}
	for i, v := range o.ch.bmin {
		o.fold(i, v, o.ch.bmax[i])
	}
	return nil
}

// fold moves channel i's averages towards a batch's range mn, mx, or
// leaves them where the batch had no finite value (mn = +Inf).
func (o *PerChannelMovingAverageMinMax) fold(i int, mn, mx float32) {
	if mn == posInf {
		return
	}
	o.ch.min[i] += float32(o.c * (mn - o.ch.min[i])) // no FMA: see MovingAverageMinMax
	o.ch.max[i] += float32(o.c * (mx - o.ch.max[i]))
}

// ObserveRows implements fakequant.RowObserver: Observe, a row (channel)
// at a time, each row handed to use with its new range.
func (o *PerChannelMovingAverageMinMax) ObserveRows(x []float32, shape []int, use func(c int, row []float32, mn, mx float32)) (bool, error) {
	return o.ch.observeRows(&o.base, x, shape, o.fold, use)
}

// Range returns copies of the per-channel averaged minima and maxima.
func (o *PerChannelMovingAverageMinMax) Range() (min, max []float32, err error) {
	return o.ch.rangeCopy(&o.base)
}

// QParams returns fakequant.QParamsFromRange of Range.
func (o *PerChannelMovingAverageMinMax) QParams() (fakequant.QParams, error) { return qparams(o) }

// Reset forgets the ranges, the channel count and the non-finite count; the
// frozen flag and c stay.
func (o *PerChannelMovingAverageMinMax) Reset() { o.ch.reset(); o.nonFinite = 0 }

// MarshalState saves the observer (see the State layout in state.go).
func (o *PerChannelMovingAverageMinMax) MarshalState() ([]byte, error) {
	e := o.header()
	e.f32(o.c)
	o.ch.encode(e)
	return e.finish(), nil
}

// UnmarshalState restores a state saved by a PerChannelMovingAverageMinMax
// observer with the same scheme and averaging constant; on error the
// observer is unchanged.
func (o *PerChannelMovingAverageMinMax) UnmarshalState(state []byte) error {
	d, frozen, nf := o.open(state)
	if c := d.f32("averaging constant"); d.err == nil && c != o.c {
		d.fail("averaging constant %g, observer has %g", c, o.c)
	}
	observed, mn, mx := o.ch.decode(d)
	if err := d.done(); err != nil {
		return err
	}
	o.frozen, o.nonFinite = frozen, nf
	o.ch.observed, o.ch.min, o.ch.max = observed, mn, mx
	return nil
}
