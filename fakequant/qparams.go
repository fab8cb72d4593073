package fakequant

import (
	"fmt"
	"math"
)

// Eps is the smallest scale QParamsFromRange returns: float32's machine
// epsilon, as PyTorch's observers use, so that an all-zero range still gives
// a usable (if useless) grid instead of a division by zero.
const Eps float32 = 1.1920929e-07

// QParamsFromRange computes scale and zero point for each [min[i], max[i]]
// (one pair per tensor, or one per channel), following PyTorch's observers:
//
//   - the range is first widened to include 0, so real 0 is exactly
//     representable;
//   - symmetric: m = max(-min, max), S = m / ((qmax-qmin)/2); Z = 0 for signed
//     grids and Z = 2^(b-1) for unsigned ones at every width (PyTorch's 128
//     for uint8; for narrower custom ranges PyTorch takes (qmin+qmax)//2 =
//     2^(b-1)-1 instead, see the package doc);
//   - affine: S = (max-min)/(qmax-qmin), Z = clamp(qmin - round(min/S), qmin, qmax)
//     with round half to even;
//   - S is floored at Eps.
//
// Per-tensor schemes need exactly one range.
func QParamsFromRange(s QScheme, min, max []float32) (QParams, error) {
	if err := s.Validate(); err != nil {
		return QParams{}, err
	}
	if len(min) != len(max) {
		return QParams{}, fmt.Errorf("fakequant: %d minima but %d maxima", len(min), len(max))
	}
	if len(min) == 0 {
		return QParams{}, fmt.Errorf("fakequant: empty range")
	}
	if s.Granularity == PerTensor && len(min) != 1 {
		return QParams{}, fmt.Errorf("fakequant: per-tensor scheme given %d ranges", len(min))
	}
	qmin, qmax := s.QRange()
	p := QParams{Scheme: s, Scale: make([]float32, len(min)), ZeroPoint: make([]int32, len(min))}
	for i := range min {
		scale, zp, err := rangeParams(s, qmin, qmax, min[i], max[i])
		if err != nil {
			return QParams{}, fmt.Errorf("fakequant: range %d %w", i, err)
		}
		p.Scale[i], p.ZeroPoint[i] = scale, zp
	}
	return p, nil
}

// rangeParams is QParamsFromRange for one range of the valid scheme s,
// whose grid is [qmin, qmax].
func rangeParams(s QScheme, qmin, qmax int32, lo, hi float32) (scale float32, zp int32, err error) {
	if isNaN32(lo) || isNaN32(hi) || math.IsInf(float64(lo), 0) || math.IsInf(float64(hi), 0) {
		return 0, 0, fmt.Errorf("is not finite: [%g, %g]", lo, hi)
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("is inverted: min %g > max %g", lo, hi)
	}
	lo = min32(lo, 0)
	hi = max32(hi, 0)
	if s.Symmetric {
		m := max32(-lo, hi)
		scale = m / (float32(qmax-qmin) / 2)
		scale = max32(scale, Eps)
		if !s.Signed {
			zp = 1 << (s.Bits - 1)
		}
	} else {
		scale = (hi - lo) / float32(qmax-qmin)
		scale = max32(scale, Eps)
		z := float64(qmin) - math.RoundToEven(float64(lo/scale))
		zp = int32(math.Max(float64(qmin), math.Min(float64(qmax), z)))
	}
	return scale, zp, nil
}

func isNaN32(x float32) bool { return x != x }

func min32(a, b float32) float32 {
	if a < b {
		return a
	}
	return b
}

func max32(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}
