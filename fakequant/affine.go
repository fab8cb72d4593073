package fakequant

import (
	"cmp"
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Affine is the standard fake quantizer (PyTorch's FakeQuantize): the
// observer chooses the range, QParamsFromRange the scale and zero point, and
// the op applies FakeQuantize with a straight-through gradient (dy where the
// unclamped code is on the grid, 0 where it was clipped).
//
// Observing (the default) updates the observer with every forward batch and
// recomputes the parameters; with observing off the last parameters are
// frozen. Enabled (the default) applies fake quantization; disabled passes x
// through (observation may go on: PyTorch's "static observation").
type Affine struct {
	obs       Observer
	enabled   bool
	observing bool
	params    QParams // cache, valid when have
	have      bool
	buf       []float32 // float64 batches converted for the observer
}

// NewAffine returns an Affine quantizer on obs's scheme. It takes no options.
func NewAffine(obs Observer, opts ...Option) (*Affine, error) {
	if obs == nil {
		return nil, fmt.Errorf("fakequant: NewAffine: nil observer")
	}
	if err := obs.Scheme().Validate(); err != nil {
		return nil, err
	}
	if _, err := applyOptions("affine", opts); err != nil {
		return nil, err
	}
	return &Affine{obs: obs, enabled: true, observing: !obs.Frozen()}, nil
}

// Observer returns the quantizer's observer.
func (q *Affine) Observer() Observer { return q.obs }

// Apply inserts fake quantization of x (float32 or float64, at least 1-d).
// b is not used and may be nil.
func (q *Affine) Apply(_ Binder, x *G.Node) (*G.Node, error) {
	if err := checkNode(x, q.obs.Scheme()); err != nil {
		return nil, err
	}
	return G.ApplyOp(&steOp{q: q, dims: x.Dims()}, x)
}

// SetObserving turns observation on or off; it also freezes the observer.
func (q *Affine) SetObserving(on bool) {
	q.observing = on
	q.obs.SetFrozen(!on)
}

// Observing reports whether forward passes update the observer.
func (q *Affine) Observing() bool { return q.observing }

// SetEnabled turns fake quantization on or off (identity).
func (q *Affine) SetEnabled(on bool) { q.enabled = on }

// Enabled reports whether fake quantization is applied.
func (q *Affine) Enabled() bool { return q.enabled }

// QParams returns a copy of the parameters in use (from the observer).
func (q *Affine) QParams() (QParams, error) {
	p, err := q.current()
	if err != nil {
		return QParams{}, err
	}
	return p.clone(), nil
}

// current returns the cached params, refreshing them from the observer
// when the cache is stale.
func (q *Affine) current() (QParams, error) {
	if !q.have {
		p, err := q.obs.QParams()
		if err != nil {
			return QParams{}, err
		}
		q.params, q.have = p, true
	}
	return q.params, nil
}

func (q *Affine) observe(src []float32, shape []int) error {
	if !q.observing {
		return nil
	}
	if err := q.obs.Observe(src, shape); err != nil {
		return err
	}
	q.have = false
	return nil
}

func (q *Affine) ste32(dst []float32, mask []bool, src []float32, shape []int) error {
	if done, err := q.observeRows32(dst, mask, src, shape); done || err != nil {
		return err
	}
	if err := q.observe(src, shape); err != nil {
		return err
	}
	if !q.enabled {
		passThrough(dst, mask, src)
		return nil
	}
	p, err := q.current()
	if err != nil {
		return err
	}
	return FakeQuantize(dst, mask, src, p, shape)
}

// observeRows32 is ste32 in one pass over src when the observer takes a
// row (channel) at a time (RowObserver): each row is fake-quantized with
// its channel's new range right after the observer read it, with the same
// parameters and bits as observing first and quantizing after.
func (q *Affine) observeRows32(dst []float32, mask []bool, src []float32, shape []int) (bool, error) {
	ro, ok := q.obs.(RowObserver)
	if !ok || !q.observing || !q.enabled || len(src) == 0 {
		return false, nil
	}
	s := ro.Scheme()
	if s.Granularity != PerChannel || len(dst) != len(src) || (mask != nil && len(mask) != len(src)) {
		return false, nil
	}
	qmin, qmax := s.QRange()
	var mu sync.Mutex
	var rangeErr error
	done, err := ro.ObserveRows(src, shape, func(c int, row []float32, mn, mx float32) {
		scale, zp, err := rangeParams(s, qmin, qmax, mn, mx)
		if err != nil {
			mu.Lock()
			rangeErr = cmp.Or(rangeErr, fmt.Errorf("fakequant: %v: channel %d range %w", q, c, err))
			mu.Unlock()
			return
		}
		off := c * len(row)
		var m []bool
		if mask != nil {
			m = mask[off : off+len(row)]
		}
		fq32(dst[off:off+len(row)], m, row, newSeg32(scale, zp, qmin, qmax))
	})
	if done {
		q.have = false
	}
	return done, cmp.Or(err, rangeErr)
}

func (q *Affine) ste64(dst []float64, mask []bool, src []float64, shape []int, h *roundHook) error {
	q.buf = toFloat32(q.buf, src)
	if err := q.observe(q.buf, shape); err != nil {
		return err
	}
	if !q.enabled {
		passThrough(dst, mask, src)
		return nil
	}
	p, err := q.current()
	if err != nil {
		return err
	}
	l, err := checkLayout(p, shape, len(src))
	if err != nil {
		return err
	}
	s, z := make([]float64, len(p.Scale)), make([]float64, len(p.Scale))
	for i := range s {
		s[i], z[i] = float64(p.Scale[i]), float64(p.ZeroPoint[i])
	}
	qmin, qmax := p.Scheme.QRange()
	var rnd rounder64
	if h != nil {
		rnd = h.elem
	}
	fq64(dst, mask, src, s, z, qmin, qmax, l, rnd)
	return nil
}

// MarshalState saves the flags and the observer's state.
func (q *Affine) MarshalState() ([]byte, error) {
	ob, err := q.obs.MarshalState()
	if err != nil {
		return nil, err
	}
	return encodeState(quantState{Kind: "affine", Enabled: q.enabled, Observing: q.observing, Observer: ob})
}

// UnmarshalState restores what MarshalState saved.
func (q *Affine) UnmarshalState(b []byte) error {
	s, err := decodeState(b, "affine")
	if err != nil {
		return err
	}
	if err := q.obs.UnmarshalState(s.Observer); err != nil {
		return err
	}
	q.enabled = s.Enabled
	q.SetObserving(s.Observing)
	q.have = false
	return nil
}

// String describes the quantizer, e.g. "int8 sym per-channel(axis 0) minmax".
func (q *Affine) String() string {
	return q.obs.Scheme().String() + " " + observerName(q.obs)
}

// helpers shared by the quantizers

func checkNode(x *G.Node, s QScheme) error {
	if x == nil {
		return fmt.Errorf("fakequant: Apply: nil node")
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("fakequant: Apply to %v: dtype %v, want float32 or float64", x.Name(), dt)
	}
	if x.Dims() < 1 {
		return fmt.Errorf("%w: Apply to %v: scalars are not supported", ErrShape, x.Name())
	}
	if s.Granularity == PerChannel && s.Axis >= x.Dims() {
		return fmt.Errorf("%w: Apply to %v: channel axis %d of a %d-d tensor", ErrShape, x.Name(), s.Axis, x.Dims())
	}
	return nil
}

func passThrough[T float32 | float64](dst []T, mask []bool, src []T) {
	copy(dst, src)
	for i := range mask {
		mask[i] = true
	}
}

func toFloat32(buf []float32, src []float64) []float32 {
	if cap(buf) < len(src) {
		buf = make([]float32, len(src))
	}
	buf = buf[:len(src)]
	for i, v := range src {
		buf[i] = float32(v)
	}
	return buf
}

func (p QParams) clone() QParams {
	return QParams{
		Scheme:    p.Scheme,
		Scale:     append([]float32(nil), p.Scale...),
		ZeroPoint: append([]int32(nil), p.ZeroPoint...),
	}
}
