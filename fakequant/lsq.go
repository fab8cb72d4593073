package fakequant

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LSQ is a fake quantizer with a learned scale (and, for affine schemes, a
// learned zero point) — Learned Step size Quantization (Esser et al., 2020)
// as PyTorch's _LearnableFakeQuantize implements it:
//
//   - scale and zero point are float tensors of length 1 (per tensor) or C
//     (per channel), registered through the Binder as "scale" and
//     "zero_point" so that the trainer updates them;
//   - on the first forward pass with observing on, the observer sees the
//     batch and its parameters initialise scale and zero point (PyTorch's
//     static estimate); afterwards they are learned and the observer is left
//     alone (Reinit starts over);
//   - forward: scale is floored at Eps (in place, as PyTorch does), the zero
//     point rounded half to even and clamped to the grid, then FakeQuantize;
//   - backward (PyTorch's _fake_quantize_learnable_*_backward), with q the
//     unclamped code and g the gradient factor:
//     dX = dY where qmin <= q <= qmax, else 0;
//     dScale = Σ dY·g·{ (xfq - x)/S inside; qmin - Z below; qmax - Z above };
//     dZeroPoint = Σ dY·g·{ 0 inside; -S outside }.
//     The sums run over each channel. Unlike PyTorch's per-tensor backward,
//     which rounds the zero point as trunc(zp + 0.5), the backward uses the
//     forward's rounded zero point, so both passes agree.
//
// Symmetric schemes learn the scale only; their zero point stays the
// scheme's (0, or 2^(b-1) for unsigned).
type LSQ struct {
	obs         Observer
	scheme      QScheme
	opts        options
	enabled     bool
	observing   bool
	initialized bool

	scaleT, zpT *tensor.Dense // the learnable values, created by the first Apply
	pending     *quantState   // state loaded before the first Apply
	buf         []float32
}

// NewLSQ returns an LSQ quantizer on obs's scheme. Options: WithGradScaling,
// WithGradFactor.
func NewLSQ(obs Observer, opts ...Option) (*LSQ, error) {
	if obs == nil {
		return nil, fmt.Errorf("fakequant: NewLSQ: nil observer")
	}
	s := obs.Scheme()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if qmin, qmax := s.QRange(); qmin > 0 || qmax < 0 {
		// PyTorch's learnable backward requires the grid to include code 0 (hence unsigned grids start at 0).
		return nil, fmt.Errorf("%w: LSQ needs a grid containing 0", ErrInvalidScheme)
	}
	o, err := applyOptions("lsq", opts)
	if err != nil {
		return nil, err
	}
	return &LSQ{obs: obs, scheme: s, opts: o, enabled: true, observing: !obs.Frozen()}, nil
}

// Observer returns the observer used for initialisation.
func (q *LSQ) Observer() Observer { return q.obs }

// Scale and ZeroPoint return the learnable tensors (nil before the first
// Apply; ZeroPoint is nil for symmetric schemes).
func (q *LSQ) Scale() *tensor.Dense     { return q.scaleT }
func (q *LSQ) ZeroPoint() *tensor.Dense { return q.zpT }

// Initialized reports whether scale and zero point have been set from the
// observer (or loaded).
func (q *LSQ) Initialized() bool { return q.initialized }

// Reinit makes the next observed forward pass initialise scale and zero
// point from the observer again (after Reset of the observer, say).
func (q *LSQ) Reinit() { q.initialized = false }

func (q *LSQ) learnZP() bool { return !q.scheme.Symmetric }

// symZ is the fixed zero point of symmetric schemes (QParamsFromRange's).
func (q *LSQ) symZ() int32 {
	if q.scheme.Signed {
		return 0
	}
	return 1 << (q.scheme.Bits - 1)
}

// Apply inserts LSQ fake quantization of x. b must not be nil: it registers
// "scale" (and "zero_point") as learnable tensors. Every Apply uses the same
// tensors, so train and eval graphs share them; x's dtype and channel count
// must not change between Applys.
func (q *LSQ) Apply(b Binder, x *G.Node) (*G.Node, error) {
	if b == nil {
		return nil, fmt.Errorf("fakequant: LSQ.Apply needs a Binder for its learnable scale")
	}
	if err := checkNode(x, q.scheme); err != nil {
		return nil, err
	}
	c := 1
	if q.scheme.Granularity == PerChannel {
		c = x.Shape()[q.scheme.Axis]
	}
	if q.scaleT == nil {
		if err := q.makeTensors(x.Dtype(), c); err != nil {
			return nil, err
		}
	} else if q.scaleT.Dtype() != x.Dtype() || q.scaleT.Shape().TotalSize() != c {
		return nil, fmt.Errorf("%w: LSQ applied to %v (%v, %d channels) after %v with %d", ErrShape, x.Name(), x.Dtype(), c, q.scaleT.Dtype(), q.scaleT.Shape().TotalSize())
	}
	args := G.Nodes{x, b.Learnable("scale", q.scaleT)}
	if q.learnZP() {
		args = append(args, b.Learnable("zero_point", q.zpT))
	}
	for _, n := range args[1:] {
		if n == nil {
			return nil, fmt.Errorf("fakequant: LSQ.Apply: Binder returned a nil node")
		}
	}
	return G.ApplyOp(&lsqOp{q: q, dims: x.Dims(), learnZP: q.learnZP()}, args...)
}

// makeTensors creates scale (1) and zero point (0), PyTorch's initial
// values, or the values of a state loaded before.
func (q *LSQ) makeTensors(dt tensor.Dtype, c int) error {
	s := make([]float64, c)
	z := make([]float64, c)
	for i := range s {
		s[i] = 1
	}
	if st := q.pending; st != nil {
		if len(st.Scale) != c || (q.learnZP() && len(st.ZeroPoint) != c) {
			return fmt.Errorf("%w: loaded LSQ state has %d scales, the tensor has %d channels", ErrState, len(st.Scale), c)
		}
		for i := range s {
			s[i] = float64(st.Scale[i])
			if q.learnZP() {
				z[i] = float64(st.ZeroPoint[i])
			}
		}
		q.pending = nil
	}
	q.scaleT = denseFrom(dt, s)
	if q.learnZP() {
		q.zpT = denseFrom(dt, z)
	}
	return nil
}

func denseFrom(dt tensor.Dtype, v []float64) *tensor.Dense {
	t := tensor.New(tensor.Of(dt), tensor.WithShape(len(v)))
	setFloats(t, v)
	return t
}

func setFloats(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	case []float64:
		copy(d, v)
	}
}

func getFloats(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		v := make([]float64, len(d))
		for i, x := range d {
			v[i] = float64(x)
		}
		return v
	case []float64:
		return append([]float64(nil), d...)
	}
	return nil
}

// SetObserving turns observation on or off; it also freezes the observer.
// LSQ observes only until it is initialised.
func (q *LSQ) SetObserving(on bool) {
	q.observing = on
	q.obs.SetFrozen(!on)
}

// Observing reports the observing switch.
func (q *LSQ) Observing() bool { return q.observing }

// SetEnabled turns fake quantization on or off (identity, zero gradients for
// scale and zero point).
func (q *LSQ) SetEnabled(on bool) { q.enabled = on }

// Enabled reports whether fake quantization is applied.
func (q *LSQ) Enabled() bool { return q.enabled }

// QParams returns the parameters the forward pass uses now: the learned
// scale floored at Eps, the learned zero point rounded and clamped.
func (q *LSQ) QParams() (QParams, error) {
	if !q.initialized {
		return QParams{}, ErrNotObserved
	}
	var s, z []float64
	switch {
	case q.scaleT != nil:
		s = getFloats(q.scaleT)
		if q.zpT != nil {
			z = getFloats(q.zpT)
		}
	case q.pending != nil:
		for i := range q.pending.Scale {
			s = append(s, float64(q.pending.Scale[i]))
			if q.learnZP() {
				z = append(z, float64(q.pending.ZeroPoint[i]))
			}
		}
	default:
		return QParams{}, ErrNotObserved
	}
	p := QParams{Scheme: q.scheme, Scale: make([]float32, len(s)), ZeroPoint: make([]int32, len(s))}
	qmin, qmax := q.scheme.QRange()
	for i := range s {
		p.Scale[i] = max(float32(s[i]), Eps)
		if z != nil {
			p.ZeroPoint[i] = roundZP(z[i], qmin, qmax)
		} else {
			p.ZeroPoint[i] = q.symZ()
		}
	}
	return p, nil
}

// gradN is the N of the gradient scale 1/√(N·Qp): the elements one step is
// learned from (see WithGradScaling).
func gradN(n, channels int, shape []int, batchAxis bool) float64 {
	f := float64(n) / float64(channels)
	if batchAxis && len(shape) > 1 && shape[0] > 0 {
		f /= float64(shape[0])
	}
	return max(f, 1)
}

// meanInitParams is the LSQ paper's initialisation (see WithMeanInit), per
// channel:
//   - symmetric grids: S = 2·mean|x|/√Qp, Qp = qmax−Z (the positive side);
//   - affine grids on data ≥ 0 (ReLU outputs, the paper's activations):
//     S = 2·mean|x|/√(qmax−qmin), Z = qmin;
//   - affine grids on signed data (LSQ+'s case): the grid is centred on the
//     mean μ, S = 2·mean|x−μ|/√H with H = (qmax−qmin)/2 codes on each side,
//     Z = qmin + round(H − μ/S).
//
// Non-finite values are skipped; a channel with no finite value, or only
// zeros, keeps the observer's parameters (fallback).
func meanInitParams(s QScheme, x []float32, shape []int, fallback QParams) (QParams, error) {
	l, err := shapeLayout(s, shape, len(x))
	if err != nil {
		return QParams{}, err
	}
	if len(fallback.Scale) != l.channels || len(fallback.ZeroPoint) != l.channels {
		return QParams{}, fmt.Errorf("%w: observer gave %d scales for %d channels", ErrShape, len(fallback.Scale), l.channels)
	}
	qmin, qmax := s.QRange()
	lo := make([]float64, l.channels)
	sum := make([]float64, l.channels)
	cnt := make([]float64, l.channels)
	walk := func(f func(c int, v float64)) {
		off := 0
		for o := 0; o < l.outer; o++ {
			for c := 0; c < l.channels; c++ {
				for _, v := range x[off : off+l.inner] {
					if w := float64(v); !math.IsNaN(w) && !math.IsInf(w, 0) {
						f(c, w)
					}
				}
				off += l.inner
			}
		}
	}
	center := make([]float64, l.channels) // m above: 0, or the mean of signed affine data
	if !s.Symmetric {
		walk(func(c int, v float64) { lo[c] = min(lo[c], v); center[c] += v; cnt[c]++ })
		for c := range center {
			if lo[c] < 0 && cnt[c] > 0 {
				center[c] /= cnt[c]
			} else {
				center[c] = 0
			}
		}
		clear(cnt)
	}
	walk(func(c int, v float64) { sum[c] += math.Abs(v - center[c]); cnt[c]++ })
	p := fallback.clone()
	for c := range sum {
		if cnt[c] == 0 || sum[c] == 0 {
			continue
		}
		qp := float64(qmax) - float64(p.ZeroPoint[c]) // symmetric: the positive side
		half := float64(qmax-qmin) / 2
		switch {
		case !s.Symmetric && lo[c] < 0:
			qp = half
		case !s.Symmetric:
			qp = float64(qmax - qmin)
		}
		sc := 2 * sum[c] / cnt[c] / math.Sqrt(max(qp, 1))
		if !(float32(sc) >= Eps) || math.IsInf(sc, 0) {
			continue
		}
		p.Scale[c] = float32(sc)
		switch {
		case !s.Symmetric && lo[c] < 0:
			p.ZeroPoint[c] = roundZP(float64(qmin)+math.RoundToEven(half-center[c]/sc), qmin, qmax)
		case !s.Symmetric:
			p.ZeroPoint[c] = qmin
		}
	}
	return p, nil
}

// roundZP is PyTorch's forward zero point: nearbyint, clamped to the grid.
func roundZP(z float64, qmin, qmax int32) int32 {
	return int32(min(max(math.RoundToEven(z), float64(qmin)), float64(qmax)))
}

// initFrom observes x and copies the observer's parameters into the
// learnable tensors (and into the op's inputs s and z if they differ).
func (q *LSQ) initFrom(x, s, z *tensor.Dense, shape []int, channels int) error {
	var src []float32
	switch d := x.Data().(type) {
	case []float32:
		src = d
	case []float64:
		q.buf = toFloat32(q.buf, d)
		src = q.buf
	}
	if err := q.obs.Observe(src, shape); err != nil {
		return err
	}
	p, err := q.obs.QParams()
	if err != nil {
		return err
	}
	if q.opts.meanInit {
		if p, err = meanInitParams(q.scheme, src, shape, p); err != nil {
			return err
		}
	}
	if len(p.Scale) != channels {
		return fmt.Errorf("%w: observer gave %d scales for %d channels", ErrShape, len(p.Scale), channels)
	}
	sv, zv := make([]float64, channels), make([]float64, channels)
	for i := range sv {
		sv[i], zv[i] = float64(p.Scale[i]), float64(p.ZeroPoint[i])
	}
	for _, t := range []*tensor.Dense{s, q.scaleT} {
		if t != nil {
			setFloats(t, sv)
		}
	}
	if q.learnZP() {
		for _, t := range []*tensor.Dense{z, q.zpT} {
			if t != nil {
				setFloats(t, zv)
			}
		}
	}
	q.initialized = true
	return nil
}

// chanParams returns per-channel scale (floored at Eps in place, as PyTorch
// does) and rounded zero point as float64, or an error for NaN values.
func (q *LSQ) chanParams(s, z *tensor.Dense, h *roundHook) (sc, zr []float64, err error) {
	qmin, qmax := q.scheme.QRange()
	switch d := s.Data().(type) {
	case []float32:
		for i := range d {
			if d[i] != d[i] {
				return nil, nil, fmt.Errorf("%w: LSQ scale[%d] is NaN", ErrInvalidParams, i)
			}
			d[i] = max(d[i], Eps)
		}
	case []float64:
		for i := range d {
			if d[i] != d[i] {
				return nil, nil, fmt.Errorf("%w: LSQ scale[%d] is NaN", ErrInvalidParams, i)
			}
			d[i] = max(d[i], float64(Eps))
		}
	}
	sc = getFloats(s)
	zr = make([]float64, len(sc))
	if z == nil {
		for i := range zr {
			zr[i] = float64(q.symZ())
		}
		return sc, zr, nil
	}
	zv := getFloats(z)
	for i, v := range zv {
		if v != v {
			return nil, nil, fmt.Errorf("%w: LSQ zero point[%d] is NaN", ErrInvalidParams, i)
		}
		if h != nil && h.zp != nil {
			zr[i] = min(max(h.zp(i, v), float64(qmin)), float64(qmax))
		} else {
			zr[i] = float64(roundZP(v, qmin, qmax))
		}
	}
	return sc, zr, nil
}

func (q *LSQ) forward(op *lsqOp, out, x, s, z *tensor.Dense) error {
	shape := []int(x.Shape())
	n := x.Shape().TotalSize()
	l, err := shapeLayout(q.scheme, shape, n)
	if err != nil {
		return err
	}
	if s.Shape().TotalSize() != l.channels || (z != nil && z.Shape().TotalSize() != l.channels) {
		return fmt.Errorf("%w: LSQ scale has %d entries for %d channels", ErrShape, s.Shape().TotalSize(), l.channels)
	}
	if !q.initialized {
		if !q.observing {
			return fmt.Errorf("%w: LSQ is not initialised and observing is off", ErrNotObserved)
		}
		if err := q.initFrom(x, s, z, shape, l.channels); err != nil {
			return err
		}
	}
	op.identity = !q.enabled
	if !q.enabled {
		switch d := out.Data().(type) {
		case []float32:
			copy(d, x.Data().([]float32))
		case []float64:
			copy(d, x.Data().([]float64))
		}
		return nil
	}
	qmin, qmax := q.scheme.QRange()
	switch {
	case q.opts.gradFactor > 0:
		op.gradFactor = q.opts.gradFactor
	case q.opts.gradScaling:
		op.gradFactor = 1 / math.Sqrt(gradN(n, l.channels, shape, q.opts.batchAxis)*float64(qmax))
	default:
		op.gradFactor = 1
	}
	sc, zr, err := q.chanParams(s, z, op.hook)
	if err != nil {
		return err
	}
	switch xd := x.Data().(type) {
	case []float32:
		p := QParams{Scheme: q.scheme, Scale: make([]float32, len(sc)), ZeroPoint: make([]int32, len(sc))}
		for i := range sc {
			p.Scale[i], p.ZeroPoint[i] = float32(sc[i]), int32(zr[i])
		}
		return FakeQuantize(out.Data().([]float32), nil, xd, p, shape)
	case []float64:
		var rnd rounder64
		if op.hook != nil {
			rnd = op.hook.elem
		}
		fq64(out.Data().([]float64), nil, xd, sc, zr, qmin, qmax, l, rnd)
	}
	return nil
}

func (q *LSQ) backward(op *lsqOp, which int, out, x, s, z, g *tensor.Dense) error {
	if op.identity {
		// dX = dy; the scale and zero point get zero gradients (out is
		// the op's own tensor from the last run, so clear it).
		switch d := out.Data().(type) {
		case []float32:
			if which == 0 {
				copy(d, g.Data().([]float32))
			} else {
				clear(d)
			}
		case []float64:
			if which == 0 {
				copy(d, g.Data().([]float64))
			} else {
				clear(d)
			}
		}
		return nil
	}
	shape := []int(x.Shape())
	l, err := shapeLayout(q.scheme, shape, x.Shape().TotalSize())
	if err != nil {
		return err
	}
	sc, zr, err := q.chanParams(s, z, nil)
	if err != nil {
		return err
	}
	qmin, qmax := q.scheme.QRange()
	switch xd := x.Data().(type) {
	case []float32:
		sums := lsqGrad(which, out.Data().([]float32), xd, g.Data().([]float32), sc, zr, qmin, qmax, l, magic32)
		if which > 0 {
			d := out.Data().([]float32)
			for c := range d {
				d[c] = float32(sums[c] * op.gradFactor)
			}
		}
	case []float64:
		sums := lsqGrad(which, out.Data().([]float64), xd, g.Data().([]float64), sc, zr, qmin, qmax, l, magic64)
		if which > 0 {
			d := out.Data().([]float64)
			for c := range d {
				d[c] = sums[c] * op.gradFactor
			}
		}
	}
	return nil
}

// backwardFused computes dX into op.dx and the factor-scaled dScale and
// dZeroPoint into op.dS and op.dZ in one pass over float32 x (lsqSums32).
func (q *LSQ) backwardFused(op *lsqOp, x, s, z, g *tensor.Dense) error {
	shape := []int(x.Shape())
	l, err := shapeLayout(q.scheme, shape, x.Shape().TotalSize())
	if err != nil {
		return err
	}
	sc, zr, err := q.chanParams(s, z, nil)
	if err != nil {
		return err
	}
	qmin, qmax := q.scheme.QRange()
	dxT := owned(&op.dx, x)
	dx, xd, gd := dxT.Data().([]float32), x.Data().([]float32), g.Data().([]float32)
	if cap(op.dS) < l.channels {
		op.dS, op.dZ = make([]float64, l.channels), make([]float64, l.channels)
	}
	op.dS, op.dZ = op.dS[:l.channels], op.dZ[:l.channels]
	clear(op.dS)
	clear(op.dZ)
	segs := make([]seg32, l.channels)
	for c := range segs {
		segs[c] = newSeg32(float32(sc[c]), int32(zr[c]), qmin, qmax)
	}
	off := 0
	for o := 0; o < l.outer; o++ {
		for c := 0; c < l.channels; c++ {
			ss, so := lsqSums32(dx[off:off+l.inner], xd[off:off+l.inner], gd[off:off+l.inner], segs[c])
			op.dS[c] += ss
			op.dZ[c] += so
			off += l.inner
		}
	}
	for c := range op.dS {
		op.dS[c] *= op.gradFactor
		op.dZ[c] *= -float64(segs[c].s) * op.gradFactor
	}
	return nil
}

// lsqGrad computes dX into dx (which 0) or returns the per-channel sums of
// the dScale (1) or dZeroPoint (2) terms before the gradient factor. The
// codes are computed exactly as the forward kernel of T's width does.
func lsqGrad[T float32 | float64](which int, dx, x, g []T, sc, zr []float64, qmin, qmax int32, l layout, magic T) []float64 {
	var sums []float64
	if which > 0 {
		sums = make([]float64, l.channels)
	}
	off := 0
	for o := 0; o < l.outer; o++ {
		for c := 0; c < l.channels; c++ {
			s := T(sc[c])
			inv := 1 / s
			zi := int32(zr[c])
			lo, hi := T(qmin-zi-1), T(qmax-zi+1)
			rlo, rhi := T(qmin-zi), T(qmax-zi)
			below, above := float64(qmin-zi), float64(qmax-zi)
			var acc float64
			for i := off; i < off+l.inner; i++ {
				y := T(x[i] * inv)
				if !(y >= lo) {
					y = lo
				}
				if y > hi {
					y = hi
				}
				r := (y + magic) - magic
				switch which {
				case 0:
					if r >= rlo && r <= rhi {
						dx[i] = g[i]
					} else {
						dx[i] = 0
					}
				case 1:
					switch {
					case r < rlo:
						acc += float64(g[i]) * below
					case r > rhi:
						acc += float64(g[i]) * above
					default:
						xfq := float64(T(r * s))
						acc += float64(g[i]) * (xfq - float64(x[i])) * float64(inv)
					}
				case 2:
					if r < rlo || r > rhi {
						acc -= float64(g[i]) * float64(s)
					}
				}
			}
			if which > 0 {
				sums[c] += acc
			}
			off += l.inner
		}
	}
	return sums
}

// MarshalState saves flags, observer state and the learned parameters.
func (q *LSQ) MarshalState() ([]byte, error) {
	ob, err := q.obs.MarshalState()
	if err != nil {
		return nil, err
	}
	st := quantState{Kind: "lsq", Enabled: q.enabled, Observing: q.observing, Observer: ob, Initialized: q.initialized}
	switch {
	case q.scaleT != nil:
		for _, v := range getFloats(q.scaleT) {
			st.Scale = append(st.Scale, float32(v))
		}
		if q.zpT != nil {
			for _, v := range getFloats(q.zpT) {
				st.ZeroPoint = append(st.ZeroPoint, float32(v))
			}
		}
	case q.pending != nil:
		st.Scale, st.ZeroPoint = q.pending.Scale, q.pending.ZeroPoint
	}
	return encodeState(st)
}

// UnmarshalState restores what MarshalState saved. Learned values go into
// the existing tensors (their length must match) or wait for the first Apply.
func (q *LSQ) UnmarshalState(b []byte) error {
	st, err := decodeState(b, "lsq")
	if err != nil {
		return err
	}
	if q.learnZP() && len(st.ZeroPoint) != len(st.Scale) || !q.learnZP() && len(st.ZeroPoint) != 0 {
		return fmt.Errorf("%w: %d scales and %d zero points for %v", ErrState, len(st.Scale), len(st.ZeroPoint), q.scheme)
	}
	if st.Initialized && len(st.Scale) == 0 {
		return fmt.Errorf("%w: initialised LSQ state without scales", ErrState)
	}
	for i, v := range st.Scale {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: scale[%d] = %g", ErrState, i, v)
		}
	}
	for i, v := range st.ZeroPoint {
		if v != v || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: zero point[%d] = %g", ErrState, i, v)
		}
	}
	if q.scaleT != nil && len(st.Scale) > 0 && len(st.Scale) != q.scaleT.Shape().TotalSize() {
		return fmt.Errorf("%w: %d scales for a quantizer with %d channels", ErrState, len(st.Scale), q.scaleT.Shape().TotalSize())
	}
	if err := q.obs.UnmarshalState(st.Observer); err != nil {
		return err
	}
	if len(st.Scale) > 0 {
		if q.scaleT != nil {
			setFloats(q.scaleT, float64s(st.Scale))
			if q.zpT != nil {
				setFloats(q.zpT, float64s(st.ZeroPoint))
			}
		} else {
			cp := st
			q.pending = &cp
		}
	}
	q.initialized = st.Initialized
	q.enabled = st.Enabled
	q.SetObserving(st.Observing)
	return nil
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// String describes the quantizer, e.g. "int4 affine per-tensor lsq(minmax)".
func (q *LSQ) String() string {
	return q.scheme.String() + " lsq(" + observerName(q.obs) + ")"
}
