package sweep

import (
	"fmt"
	"math"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/kmeans"
	"github.com/qatgo/qatgo/numerics"
)

// floatFormat maps a float-format method to its numerics format.
func floatFormat(m Method) (numerics.Format, bool) {
	switch m {
	case FP16:
		return numerics.FP16, true
	case BF16:
		return numerics.BF16, true
	case FP8E4M3:
		return numerics.FP8E4M3, true
	case FP8E5M2:
		return numerics.FP8E5M2, true
	}
	return numerics.Format{}, false
}

// LinearScheme is the weight grid of linear-pc and linear-pt at bits b:
// signed, symmetric (Z = 0), per output channel (axis 0) or per tensor, as
// PyTorch's default weight observer.
func LinearScheme(m Method, b int) fakequant.QScheme {
	s := fakequant.QScheme{Bits: b, Signed: true, Symmetric: true, Granularity: fakequant.PerTensor}
	if m == LinearPC {
		s.Granularity = fakequant.PerChannel
	}
	return s
}

// QuantizeWeights writes to dst the weights w (row-major, output channel
// first, shape given) quantized by method m at bits b, with ranges taken
// from w itself (min-max): linear per channel or per tensor, k-means with
// 2^b centroids (linear init), power of two with b-1 exponent bits below
// 2^round(log2 max|w|), or rounding to a float format. dst may alias w.
func QuantizeWeights(dst, w []float32, shape []int, m Method, b int) error {
	if len(dst) != len(w) {
		return fmt.Errorf("sweep: quantize: dst has %d values, w %d", len(dst), len(w))
	}
	if len(w) == 0 {
		return fmt.Errorf("sweep: quantize: empty weights")
	}
	if lo, hi := m.bitsRange(); b < lo || b > hi {
		return fmt.Errorf("%w: %s at %d bits (supports %d..%d)", ErrOption, m, b, lo, hi)
	}
	switch m {
	case LinearPC, LinearPT:
		s := LinearScheme(m, b)
		lo, hi := channelRanges(w, shape, m == LinearPC)
		qp, err := fakequant.QParamsFromRange(s, lo, hi)
		if err != nil {
			return fmt.Errorf("sweep: %s: %w", m, err)
		}
		if err := fakequant.FakeQuantize(dst, nil, w, qp, shape); err != nil {
			return fmt.Errorf("sweep: %s: %w", m, err)
		}
	case Pow2:
		var maxAbs float32
		for _, v := range w {
			maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
		}
		p := fakequant.PoTParams{Bits: b - 1, MaxExp: fakequant.MaxExpFor(maxAbs)}
		if err := fakequant.FakeQuantizePoT(dst, nil, w, p); err != nil {
			return fmt.Errorf("sweep: pow2: %w", err)
		}
	case KMeans:
		cent, assign, err := Cluster(w, b)
		if err != nil {
			return err
		}
		for i, a := range assign {
			dst[i] = cent[a]
		}
	default:
		f, ok := floatFormat(m)
		if !ok {
			return fmt.Errorf("%w: method %q", ErrOption, m)
		}
		numerics.RoundSlice(dst, w, f)
	}
	return nil
}

// Cluster shares the weights w among 2^b centroids by 1-D k-means with
// linear initialisation over [min, max] (Deep Compression's choice).
func Cluster(w []float32, b int) (centroids []float32, assign []int32, err error) {
	r, err := kmeans.Cluster(w, kmeans.Options{K: 1 << b, Init: kmeans.Linear})
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: kmeans: %w", err)
	}
	return r.Centroids, r.Assign, nil
}

// channelRanges returns the min and max of each output channel (axis 0)
// or, with perChannel false, of the whole tensor.
func channelRanges(w []float32, shape []int, perChannel bool) (lo, hi []float32) {
	c := 1
	if perChannel && len(shape) > 0 && shape[0] > 0 && len(w)%shape[0] == 0 {
		c = shape[0]
	}
	per := len(w) / c
	lo, hi = make([]float32, c), make([]float32, c)
	for i := range c {
		seg := w[i*per : (i+1)*per]
		lo[i], hi[i] = seg[0], seg[0]
		for _, v := range seg {
			lo[i], hi[i] = min(lo[i], v), max(hi[i], v)
		}
	}
	return lo, hi
}
