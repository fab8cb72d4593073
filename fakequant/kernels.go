package fakequant

import (
	"errors"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/internal/parallel"
)

// ErrShape is returned (wrapped) when slice lengths, a shape and the
// parameters do not fit together.
var ErrShape = errors.New("fakequant: shape mismatch")

// ErrInvalidParams is returned (wrapped) for parameters that cannot be used:
// a non-positive or non-finite scale, a zero point off the grid, or scale and
// zero-point slices of different lengths.
var ErrInvalidParams = errors.New("fakequant: invalid quantization parameters")

// layout describes a row-major tensor as outer × channels × inner blocks, so
// that per-channel kernels can walk contiguous runs of one channel.
type layout struct {
	outer, channels, inner int
}

// shapeLayout checks shape against the slice length n and the scheme's
// channel axis, and returns the block layout the kernels walk. Per-tensor
// schemes give one channel.
func shapeLayout(s QScheme, shape []int, n int) (layout, error) {
	if err := s.Validate(); err != nil {
		return layout{}, err
	}
	size := 1
	for i, d := range shape {
		if d < 0 {
			return layout{}, fmt.Errorf("%w: negative dimension %d in shape %v", ErrShape, i, shape)
		}
		size *= d
	}
	if size != n {
		return layout{}, fmt.Errorf("%w: shape %v holds %d elements, slice has %d", ErrShape, shape, size, n)
	}
	l := layout{outer: 1, channels: 1, inner: n}
	if s.Granularity == PerChannel {
		ax := s.Axis
		if ax >= len(shape) {
			return layout{}, fmt.Errorf("%w: channel axis %d for the %d-d shape %v", ErrShape, ax, len(shape), shape)
		}
		l.channels = shape[ax]
		l.outer, l.inner = 1, 1
		for _, d := range shape[:ax] {
			l.outer *= d
		}
		for _, d := range shape[ax+1:] {
			l.inner *= d
		}
	}
	return l, nil
}

// checkLayout is shapeLayout plus a check of p's scales and zero points.
func checkLayout(p QParams, shape []int, n int) (layout, error) {
	l, err := shapeLayout(p.Scheme, shape, n)
	if err != nil {
		return layout{}, err
	}
	if err := p.check(l.channels); err != nil {
		return layout{}, err
	}
	return l, nil
}

// check reports whether p has n usable (scale, zero point) pairs.
func (p QParams) check(n int) error {
	if len(p.Scale) != len(p.ZeroPoint) {
		return fmt.Errorf("%w: %d scales but %d zero points", ErrInvalidParams, len(p.Scale), len(p.ZeroPoint))
	}
	if len(p.Scale) != n {
		return fmt.Errorf("%w: %d scales for %d channels (%v)", ErrShape, len(p.Scale), n, p.Scheme)
	}
	qmin, qmax := p.Scheme.QRange()
	for i, s := range p.Scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("%w: scale[%d] = %g", ErrInvalidParams, i, s)
		}
		if z := p.ZeroPoint[i]; z < qmin || z > qmax {
			return fmt.Errorf("%w: zero point[%d] = %d outside [%d, %d]", ErrInvalidParams, i, z, qmin, qmax)
		}
	}
	return nil
}

// Rounding by the magic number: for |y| < 2^22 (float32) or 2^51 (float64),
// (y + 1.5·2^m) - 1.5·2^m rounds y to the nearest integer, ties to even, in
// the hardware's default rounding mode, exactly as C's nearbyint does. The
// kernels first clamp y to a window one code wider than the grid on each
// side, which never changes the clamped result or the mask (anything beyond
// the window is clipped either way) and keeps y far inside the trick's range.
const (
	magic32 float32 = 1.5 * (1 << 23)
	magic64 float64 = 1.5 * (1 << 52)
)

// seg32 holds the per-channel constants of the float32 fake-quant loop, all
// expressed relative to the zero point so that the loop never converts to int:
// clamp(Z+r, qmin, qmax) - Z = clamp(r, qmin-Z, qmax-Z), exact in float32
// because every value involved is an integer below 2^18.
type seg32 struct {
	s, inv   float32 // scale and its float32 reciprocal (PyTorch: 1.0f / scale)
	lo, hi   float32 // pre-round clamp window: qmin-Z-1, qmax-Z+1
	rlo, rhi float32 // grid relative to Z: qmin-Z, qmax-Z
}

func newSeg32(s float32, z, qmin, qmax int32) seg32 {
	return seg32{
		s: s, inv: 1 / s,
		lo: float32(qmin - z - 1), hi: float32(qmax - z + 1),
		rlo: float32(qmin - z), rhi: float32(qmax - z),
	}
}

// fq32Generic fake-quantizes one contiguous run with one channel's constants
// (the scalar loop; fq32 may use a vector loop for the bulk).
// NaN inputs fail every comparison, so `!(y >= lo)` sends them below the grid:
// like PyTorch's CPU kernel (fmax(NaN, qmin) = qmin) they come out as the
// lowest code, with a false mask.
func fq32Generic(dst []float32, mask []bool, src []float32, c seg32) {
	dst = dst[:len(src)]
	if mask == nil {
		for i, x := range src {
			y := float32(x * c.inv) // the conversion forbids fusing into an FMA
			if !(y >= c.lo) {
				y = c.lo
			}
			if y > c.hi {
				y = c.hi
			}
			r := (y + magic32) - magic32
			if r < c.rlo {
				r = c.rlo
			}
			if r > c.rhi {
				r = c.rhi
			}
			dst[i] = r * c.s
		}
		return
	}
	mask = mask[:len(src)]
	for i, x := range src {
		y := float32(x * c.inv)
		if !(y >= c.lo) {
			y = c.lo
		}
		if y > c.hi {
			y = c.hi
		}
		r := (y + magic32) - magic32
		in := true
		if r < c.rlo {
			r, in = c.rlo, false
		}
		if r > c.rhi {
			r, in = c.rhi, false
		}
		dst[i] = r * c.s
		mask[i] = in
	}
}

// FakeQuantize writes quantize→dequantize of src to dst:
//
//	q = Z + nearbyint(x · float32(1/S))   (round half to even, in float32)
//	dst = float32(clamp(q, qmin, qmax) - Z) · S
//	mask = qmin <= q <= qmax              (before clamping; nil to skip)
//
// which is PyTorch's CPU fake_quantize_per_tensor_affine_cachemask (and its
// per-channel twin) bit for bit. shape is src's row-major shape; per-channel
// params have one (scale, zero point) per index along p.Scheme.Axis.
// Non-finite inputs are clipped: +Inf (and any x/S ≥ 2^63) becomes the top
// of the range, -Inf and NaN the bottom, all with a false mask (so the
// straight-through gradient is zero there). PyTorch 1.13 sends +Inf to the
// bottom through an undefined float→int64 conversion; see the package doc. dst may alias src. It does not
// allocate below 2·32,768 elements or on one core; above, it splits the
// elements over the cores (the same bits).
func FakeQuantize(dst []float32, mask []bool, src []float32, p QParams, shape []int) error {
	l, err := checkLayout(p, shape, len(src))
	if err != nil {
		return err
	}
	if len(dst) != len(src) || (mask != nil && len(mask) != len(src)) {
		return fmt.Errorf("%w: dst %d, mask %d, src %d elements", ErrShape, len(dst), len(mask), len(src))
	}
	qmin, qmax := p.Scheme.QRange()
	if l.channels == 1 {
		c := newSeg32(p.Scale[0], p.ZeroPoint[0], qmin, qmax)
		if k := parallel.Chunks(len(src), parGrain); k > 1 {
			parallel.For(len(src), k, 16, func(_, lo, hi int) {
				var m []bool
				if mask != nil {
					m = mask[lo:hi]
				}
				fq32(dst[lo:hi], m, src[lo:hi], c)
			})
			return nil
		}
		fq32(dst, mask, src, c)
		return nil
	}
	segs := l.outer * l.channels
	if k := parallel.Chunks(len(src), parGrain); k > 1 && segs >= k {
		parallel.For(segs, k, 1, func(_, lo, hi int) { fqSegments(dst, mask, src, p, l, lo, hi) })
		return nil
	}
	fqSegments(dst, mask, src, p, l, 0, segs)
	return nil
}

// parGrain is the fewest elements a core gets when the elementwise loops
// split over cores (internal/parallel): ~10 µs of work, well above a
// goroutine's start.
const parGrain = 1 << 15

// fqSegments fake-quantizes the per-channel runs lo..hi−1 (run s is channel
// s mod channels) of a FakeQuantize.
func fqSegments(dst []float32, mask []bool, src []float32, p QParams, l layout, lo, hi int) {
	qmin, qmax := p.Scheme.QRange()
	for s := lo; s < hi; s++ {
		c := s % l.channels
		off := s * l.inner
		seg := newSeg32(p.Scale[c], p.ZeroPoint[c], qmin, qmax)
		var m []bool
		if mask != nil {
			m = mask[off : off+l.inner]
		}
		fq32(dst[off:off+l.inner], m, src[off:off+l.inner], seg)
	}
}

// Quantize writes the integer codes clamp(Z + nearbyint(x·float32(1/S)),
// qmin, qmax) of src to dst, with the same rounding and non-finite handling
// as FakeQuantize (NaN → qmin).
func Quantize(dst []int32, src []float32, p QParams, shape []int) error {
	l, err := checkLayout(p, shape, len(src))
	if err != nil {
		return err
	}
	if len(dst) != len(src) {
		return fmt.Errorf("%w: dst %d, src %d elements", ErrShape, len(dst), len(src))
	}
	qmin, qmax := p.Scheme.QRange()
	off := 0
	for o := 0; o < l.outer; o++ {
		for c := 0; c < l.channels; c++ {
			seg := newSeg32(p.Scale[c], p.ZeroPoint[c], qmin, qmax)
			z := p.ZeroPoint[c]
			d := dst[off : off+l.inner]
			for i, x := range src[off : off+l.inner] {
				y := float32(x * seg.inv)
				if !(y >= seg.lo) {
					y = seg.lo
				}
				if y > seg.hi {
					y = seg.hi
				}
				r := (y + magic32) - magic32
				r = min(max(r, seg.rlo), seg.rhi)
				d[i] = int32(r) + z
			}
			off += l.inner
		}
	}
	return nil
}

// Dequantize writes float32(q - Z) · S for each code q of src to dst. Codes
// are not checked against the grid.
func Dequantize(dst []float32, src []int32, p QParams, shape []int) error {
	l, err := checkLayout(p, shape, len(src))
	if err != nil {
		return err
	}
	if len(dst) != len(src) {
		return fmt.Errorf("%w: dst %d, src %d elements", ErrShape, len(dst), len(src))
	}
	off := 0
	for o := 0; o < l.outer; o++ {
		for c := 0; c < l.channels; c++ {
			s, z := p.Scale[c], p.ZeroPoint[c]
			d := dst[off : off+l.inner]
			for i, q := range src[off : off+l.inner] {
				d[i] = float32(q-z) * s
			}
			off += l.inner
		}
	}
	return nil
}

// rounder64 rounds v, the i-th element's x/S, to an integer. The production
// rounder is math.RoundToEven; gradient checks install one that freezes each
// element's rounding residual, so that the straight-through estimator becomes
// an exact derivative (see ops_test.go).
type rounder64 func(i int, v float64) float64

func roundEven64(_ int, v float64) float64 {
	if math.Abs(v) < 1<<51 {
		return (v + magic64) - magic64
	}
	return math.RoundToEven(v)
}

// fq64 is the float64 twin of FakeQuantize for the gradient-check path: all
// arithmetic in float64, scale and zero point as float64 (the zero point is
// normally an integer; rounding hooks may make it fractional). NaN maps to
// the bottom code like the float32 kernel.
func fq64(dst []float64, mask []bool, src []float64, scale, zp []float64, qmin, qmax int32, l layout, rnd rounder64) {
	if rnd == nil {
		rnd = roundEven64
	}
	lo, hi := float64(qmin), float64(qmax)
	off := 0
	for o := 0; o < l.outer; o++ {
		for c := 0; c < l.channels; c++ {
			s, z := scale[c], zp[c]
			inv := 1 / s
			for i := off; i < off+l.inner; i++ {
				q := z + rnd(i, src[i]*inv)
				in := q >= lo && q <= hi
				if !(q >= lo) {
					q = lo
				}
				if q > hi {
					q = hi
				}
				dst[i] = (q - z) * s
				if mask != nil {
					mask[i] = in
				}
			}
			off += l.inner
		}
	}
}
