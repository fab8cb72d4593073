package analysis

import (
	"errors"
	"fmt"
	"math"
)

// ErrInput is returned (wrapped) for inputs analysis cannot use.
var ErrInput = errors.New("analysis: bad input")

// MaxSQNR is the SQNR reported (in dB) when the quantized tensor equals
// the reference exactly: a finite stand-in for +Inf that JSON can carry.
const MaxSQNR = 300.0

// SQNR returns 10·log10(Σ ref² / Σ (ref − q)²) in dB, the ratio of the
// reference's energy to the energy of the quantization error. It is
// MaxSQNR when q equals ref and -MaxSQNR when ref is all zeros but q is not.
func SQNR(ref, q []float32) (float64, error) {
	var acc sqnrAcc
	if err := acc.add(ref, q); err != nil {
		return 0, err
	}
	return acc.db(), nil
}

// sqnrAcc sums signal and noise energy over batches (in float64, so that
// sums over millions of values keep their precision).
type sqnrAcc struct{ sig, noise float64 }

func (a *sqnrAcc) add(ref, q []float32) error {
	if len(ref) != len(q) {
		return fmt.Errorf("%w: %d reference values, %d quantized", ErrInput, len(ref), len(q))
	}
	for i, r := range ref {
		d := float64(r) - float64(q[i])
		a.sig += float64(r) * float64(r)
		a.noise += d * d
	}
	return nil
}

func (a sqnrAcc) db() float64 {
	switch {
	case a.noise == 0:
		return MaxSQNR
	case a.sig == 0:
		return -MaxSQNR
	}
	return math.Max(-MaxSQNR, math.Min(MaxSQNR, 10*math.Log10(a.sig/a.noise)))
}
