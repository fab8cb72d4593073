package intruntime

import (
	"errors"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/intmodel"
)

// ErrRuntime is wrapped by the errors of this package.
var ErrRuntime = errors.New("intruntime")

// quantizeOne returns clamp(Z + nearbyint(x·inv), lo, hi) as the fake-quant
// kernels compute it: x·inv in float32, round half to even. NaN maps to Z.
func quantizeOne(x, inv float32, z, lo, hi int32) int32 {
	v := x * inv
	if v != v {
		return z
	}
	// Clamp in float first so that the conversion cannot overflow.
	r := math.RoundToEven(float64(v))
	if r > 1e6 {
		r = 1e6
	} else if r < -1e6 {
		r = -1e6
	}
	q := z + int32(r)
	return min(max(q, lo), hi)
}

// quantizeRowScalar writes uint8(quantizeOne(x, inv, z, lo, hi)) for each x
// of src: z, lo and hi in storage codes (offset included), [lo, hi] within
// a byte.
func quantizeRowScalar(dst []uint8, src []float32, inv float32, z, lo, hi int32) {
	dst = dst[:len(src)]
	for j, v := range src {
		dst[j] = uint8(quantizeOne(v, inv, z, lo, hi))
	}
}

// QuantizeInput quantizes x into dst with q = clamp(Z + nearbyint(x·(1/S)))
// (float32 product, round half to even, clamp to the code range; NaN gives
// Z): the same numbers as the fake-quant kernels. T must be uint8 for an
// unsigned q and int8 for a signed one; len(dst) must be at least len(x).
func QuantizeInput[T uint8 | int8](dst []T, x []float32, q intmodel.ActQuant) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrRuntime, err)
	}
	var probe T = 0
	probe--
	if signed := probe < 0; signed != q.Signed {
		return fmt.Errorf("%w: %T codes for a quantization with signed=%v", ErrRuntime, probe, q.Signed)
	}
	if len(dst) < len(x) {
		return fmt.Errorf("%w: dst holds %d codes, x has %d values", ErrRuntime, len(dst), len(x))
	}
	inv := 1 / q.Scale
	lo, hi := q.Range()
	for i, v := range x {
		dst[i] = T(quantizeOne(v, inv, q.ZeroPoint, lo, hi))
	}
	return nil
}

// Dequantize writes dst[i] = S·(q[i] − Z) in float32.
func Dequantize[T uint8 | int8 | int32](dst []float32, q []T, a intmodel.ActQuant) error {
	if len(dst) < len(q) {
		return fmt.Errorf("%w: dst holds %d values, q has %d codes", ErrRuntime, len(dst), len(q))
	}
	for i, v := range q {
		dst[i] = a.Scale * float32(int32(v)-a.ZeroPoint)
	}
	return nil
}
