package observers

import (
	"fmt"
	"strings"

	"github.com/qatgo/qatgo/fakequant"
)

// Kinds lists the names New accepts, in the order its errors list them.
func Kinds() []string { return []string{"minmax", "ema", "histogram", "mse", "entropy"} }

// New builds the observer named kind for the scheme s with the package
// defaults, so that a configuration string can pick one:
//
//	"minmax"     MinMax, or PerChannelMinMax for a per-channel scheme
//	"ema"        MovingAverageMinMax (c = DefaultAveragingConstant), or
//	             PerChannelMovingAverageMinMax
//	"histogram"  Histogram (DefaultBins, DefaultLowPercentile, DefaultHighPercentile)
//	"mse"        MSE (DefaultBins, DefaultMSESteps)
//	"entropy"    Entropy (DefaultBins)
//
// The last three are per tensor only; a per-channel scheme is an error.
func New(kind string, s fakequant.QScheme) (fakequant.Observer, error) {
	pc := s.Granularity == fakequant.PerChannel
	switch kind {
	case "minmax":
		if pc {
			return obs(NewPerChannelMinMax(s))
		}
		return obs(NewMinMax(s))
	case "ema":
		if pc {
			return obs(NewPerChannelMovingAverageMinMax(s, DefaultAveragingConstant))
		}
		return obs(NewMovingAverageMinMax(s, DefaultAveragingConstant))
	case "histogram", "mse", "entropy":
		if pc {
			return nil, fmt.Errorf("%w: %q has no per-channel variant (scheme %v); per-channel kinds: minmax, ema", ErrGranularity, kind, s)
		}
		switch kind {
		case "histogram":
			return obs(NewHistogram(s, DefaultBins, DefaultLowPercentile, DefaultHighPercentile))
		case "mse":
			return obs(NewMSE(s, DefaultBins, DefaultMSESteps))
		}
		return obs(NewEntropy(s, DefaultBins))
	}
	return nil, fmt.Errorf("%w %q, valid kinds: %s", ErrUnknownKind, kind, strings.Join(Kinds(), ", "))
}

// obs converts a constructor's result, so that a failed construction gives
// a nil interface rather than an interface holding a nil pointer.
func obs[T fakequant.Observer](o T, err error) (fakequant.Observer, error) {
	if err != nil {
		return nil, err
	}
	return o, nil
}

var (
	_ fakequant.Observer = (*MinMax)(nil)
	_ fakequant.Observer = (*MovingAverageMinMax)(nil)
	_ fakequant.Observer = (*PerChannelMinMax)(nil)
	_ fakequant.Observer = (*PerChannelMovingAverageMinMax)(nil)
	_ fakequant.Observer = (*Histogram)(nil)
	_ fakequant.Observer = (*MSE)(nil)
	_ fakequant.Observer = (*Entropy)(nil)
)
