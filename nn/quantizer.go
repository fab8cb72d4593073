package nn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/fakequant"
)

// newQuantizer is the one place where nn makes quantizers from a setting.
func newQuantizer(t TensorQuant) (fakequant.Quantizer, error) {
	if err := t.Scheme.Validate(); err != nil {
		return nil, err
	}
	if t.Method == "pot" {
		return fakequant.NewPowerOfTwo(t.Scheme.Bits)
	}
	obs, err := newObserver(t.Observer, t.Scheme)
	if err != nil {
		return nil, err
	}
	switch t.Method {
	case "affine", "":
		return fakequant.NewAffine(obs)
	case "lsq":
		return fakequant.NewLSQ(obs)
	}
	return nil, fmt.Errorf("nn: quantizer method %q, want affine, lsq or pot", t.Method)
}

// newObserver makes an observer of the given kind.
//
// Until package observers lands in this tree it returns stubObserver (min-max
// and moving-average min-max only); observers.New(kind, s) replaces it.
func newObserver(kind string, s fakequant.QScheme) (fakequant.Observer, error) {
	switch kind {
	case "minmax", "ema":
	default:
		return nil, fmt.Errorf("nn: observer %q is not available yet (have minmax, ema)", kind)
	}
	return &stubObserver{s: s, ema: kind == "ema", avg: 0.01}, nil
}

// stubObserver is a min-max or moving-average min-max observer (averaging
// constant 0.01, PyTorch's), per tensor or per channel. It stands in for
// package observers.
type stubObserver struct {
	s         fakequant.QScheme
	ema       bool
	avg       float32
	min, max  []float32
	lo, hi    []float32 // scratch of Observe
	frozen    bool
	nonFinite int64
}

func (o *stubObserver) Scheme() fakequant.QScheme { return o.s }
func (o *stubObserver) SetFrozen(f bool)          { o.frozen = f }
func (o *stubObserver) Frozen() bool              { return o.frozen }
func (o *stubObserver) Reset()                    { o.min, o.max, o.nonFinite = nil, nil, 0 }
func (o *stubObserver) NonFinite() int64          { return o.nonFinite }

func (o *stubObserver) Range() (min, max []float32, err error) {
	if o.min == nil {
		return nil, nil, fakequant.ErrNotObserved
	}
	return append([]float32(nil), o.min...), append([]float32(nil), o.max...), nil
}

func (o *stubObserver) QParams() (fakequant.QParams, error) {
	if o.min == nil {
		return fakequant.QParams{}, fakequant.ErrNotObserved
	}
	return fakequant.QParamsFromRange(o.s, o.min, o.max)
}

func (o *stubObserver) Observe(x []float32, shape []int) error {
	if o.frozen {
		return nil
	}
	outer, c, inner := 1, 1, len(x)
	if o.s.Granularity == fakequant.PerChannel {
		if o.s.Axis >= len(shape) {
			return fmt.Errorf("nn: per-channel axis %d for shape %v", o.s.Axis, shape)
		}
		outer, c, inner = 1, shape[o.s.Axis], 1
		for i, d := range shape {
			if i < o.s.Axis {
				outer *= d
			} else if i > o.s.Axis {
				inner *= d
			}
		}
	}
	if cap(o.lo) < c {
		o.lo, o.hi = make([]float32, c), make([]float32, c)
	}
	lo, hi := o.lo[:c], o.hi[:c]
	for j := range lo {
		lo[j], hi[j] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	for b := 0; b < outer; b++ {
		for j := 0; j < c; j++ {
			seg := x[(b*c+j)*inner : (b*c+j+1)*inner]
			l, h, finite := minMax(seg)
			if !finite {
				l, h = lo[j], hi[j]
				for _, v := range seg {
					if v-v != 0 { // NaN or ±Inf
						o.nonFinite++
						continue
					}
					l, h = min(l, v), max(h, v)
				}
			}
			lo[j], hi[j] = min(lo[j], l), max(hi[j], h)
		}
	}
	for j := range lo {
		if lo[j] > hi[j] {
			return errors.New("nn: observer: no finite value in a channel")
		}
	}
	if o.min == nil || len(o.min) != c {
		o.min, o.max = append([]float32(nil), lo...), append([]float32(nil), hi...)
		return nil
	}
	for j := range lo {
		if o.ema {
			o.min[j] += o.avg * (lo[j] - o.min[j])
			o.max[j] += o.avg * (hi[j] - o.max[j])
		} else {
			o.min[j] = min(o.min[j], lo[j])
			o.max[j] = max(o.max[j], hi[j])
		}
	}
	return nil
}

// minMaxGeneric returns the smallest and largest values of x and whether all
// of x is finite (when not, lo and hi are meaningless). It is the observers'
// hot loop (every activation of every step): four independent comparison
// chains, and v-v, which is 0 for finite v and NaN otherwise, summed to
// detect non-finite values without a branch per element. minMax may run a
// vector loop instead.
func minMaxGeneric(x []float32) (lo, hi float32, finite bool) {
	if len(x) == 0 {
		return float32(math.Inf(1)), float32(math.Inf(-1)), true
	}
	l0, l1, l2, l3 := x[0], x[0], x[0], x[0]
	h0, h1, h2, h3 := l0, l0, l0, l0
	var z0, z1 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := (*[4]float32)(x[i : i+4])
		a, b, c, d := v[0], v[1], v[2], v[3]
		if a < l0 {
			l0 = a
		}
		if a > h0 {
			h0 = a
		}
		if b < l1 {
			l1 = b
		}
		if b > h1 {
			h1 = b
		}
		if c < l2 {
			l2 = c
		}
		if c > h2 {
			h2 = c
		}
		if d < l3 {
			l3 = d
		}
		if d > h3 {
			h3 = d
		}
		z0 += (a - a) + (b - b)
		z1 += (c - c) + (d - d)
	}
	for ; i < len(x); i++ {
		a := x[i]
		if a < l0 {
			l0 = a
		}
		if a > h0 {
			h0 = a
		}
		z0 += a - a
	}
	lo, hi = min(l0, l1, l2, l3), max(h0, h1, h2, h3)
	return lo, hi, z0+z1 == 0
}

func (o *stubObserver) MarshalState() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("stubo1")
	binary.Write(&buf, binary.LittleEndian, uint32(len(o.min)))
	binary.Write(&buf, binary.LittleEndian, o.min)
	binary.Write(&buf, binary.LittleEndian, o.max)
	return buf.Bytes(), nil
}

func (o *stubObserver) UnmarshalState(b []byte) error {
	if len(b) < 10 || string(b[:6]) != "stubo1" {
		return errors.New("nn: observer state: bad header")
	}
	n := int(binary.LittleEndian.Uint32(b[6:10]))
	if len(b) != 10+8*n {
		return fmt.Errorf("nn: observer state: %d bytes for %d channels", len(b), n)
	}
	if n == 0 {
		o.min, o.max = nil, nil
		return nil
	}
	o.min, o.max = make([]float32, n), make([]float32, n)
	for i := 0; i < n; i++ {
		o.min[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[10+4*i:]))
		o.max[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[10+4*n+4*i:]))
	}
	return nil
}
