package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule gives the learning rate for a step, from the epoch (0-based) and
// the fraction of that epoch already done (in [0, 1)).
type Schedule interface {
	LR(base float32, epoch int, frac float64) float32
	String() string
}

// Constant keeps the base learning rate.
type Constant struct{}

// LR implements Schedule.
func (Constant) LR(base float32, _ int, _ float64) float32 { return base }
func (Constant) String() string                            { return "constant" }

// StepDecay multiplies the rate by Gamma every Every epochs (PyTorch's StepLR).
type StepDecay struct {
	Every int
	Gamma float32
}

// LR implements Schedule.
func (s StepDecay) LR(base float32, epoch int, _ float64) float32 {
	if s.Every <= 0 {
		return base
	}
	return base * float32(math.Pow(float64(s.Gamma), float64(epoch/s.Every)))
}
func (s StepDecay) String() string { return fmt.Sprintf("step:%d:%g", s.Every, s.Gamma) }

// Cosine anneals from the base rate to Min over Epochs epochs, per step
// (PyTorch's CosineAnnealingLR with T_max counted in steps).
type Cosine struct {
	Epochs int
	Min    float32
}

// LR implements Schedule.
func (c Cosine) LR(base float32, epoch int, frac float64) float32 {
	if c.Epochs <= 0 {
		return base
	}
	t := math.Min((float64(epoch)+frac)/float64(c.Epochs), 1)
	return c.Min + (base-c.Min)*float32(0.5*(1+math.Cos(math.Pi*t)))
}
func (c Cosine) String() string { return fmt.Sprintf("cosine:%g", c.Min) }

// ParseSchedule reads "constant", "step:EVERY:GAMMA" (e.g. step:2:0.1) or
// "cosine" / "cosine:MIN"; epochs is the run's length, used by cosine.
func ParseSchedule(s string, epochs int) (Schedule, error) {
	parts := strings.Split(s, ":")
	bad := func() (Schedule, error) {
		return nil, fmt.Errorf("train: bad schedule %q (want constant, step:EVERY:GAMMA or cosine[:MIN])", s)
	}
	switch parts[0] {
	case "", "constant":
		if len(parts) > 1 {
			return bad()
		}
		return Constant{}, nil
	case "step":
		if len(parts) != 3 {
			return bad()
		}
		every, err1 := strconv.Atoi(parts[1])
		gamma, err2 := strconv.ParseFloat(parts[2], 32)
		if err1 != nil || err2 != nil || every <= 0 || !(gamma > 0) || math.IsInf(gamma, 0) {
			return bad()
		}
		return StepDecay{Every: every, Gamma: float32(gamma)}, nil
	case "cosine":
		c := Cosine{Epochs: epochs}
		if len(parts) > 2 {
			return bad()
		}
		if len(parts) == 2 {
			m, err := strconv.ParseFloat(parts[1], 32)
			if err != nil || !(m >= 0) || math.IsInf(m, 0) {
				return bad()
			}
			c.Min = float32(m)
		}
		return c, nil
	}
	return bad()
}
