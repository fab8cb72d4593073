package train

import (
	"errors"
	"fmt"

	"github.com/qatgo/qatgo/nn"
)

// NetModel adapts a compiled float32 nn.Net to the loop's Model. A nil net,
// or one compiled for float64 (gradient-check builds are not trained),
// gives a Model whose every step returns an error saying so.
func NetModel(n *nn.Net) Model {
	if n == nil {
		return badModel{errors.New("train: NetModel of a nil net")}
	}
	for _, p := range n.Params() {
		if !p.Trainable {
			continue
		}
		if p.Value == nil || p.Grad == nil {
			return badModel{fmt.Errorf("train: trainable parameter %s has no value or gradient tensor", p.Name)}
		}
		_, ok1 := p.Value.Data().([]float32)
		_, ok2 := p.Grad.Data().([]float32)
		if !ok1 || !ok2 {
			return badModel{fmt.Errorf("train: parameter %s is not float32 (float64 nets are for gradient checks, not training)", p.Name)}
		}
	}
	return netModel{n}
}

type netModel struct{ *nn.Net }

func (m netModel) Trainable() []Tensor {
	var ts []Tensor
	for _, p := range m.Params() {
		if !p.Trainable {
			continue
		}
		// NetModel checked that every parameter is float32.
		v, _ := p.Value.Data().([]float32)
		g, _ := p.Grad.Data().([]float32)
		ts = append(ts, Tensor{Name: p.Name, Value: v, Grad: g, Decay: p.Decay, LRScale: p.LRScale})
	}
	return ts
}

// badModel is a Model that cannot run; every method that can fail returns err.
type badModel struct{ err error }

func (b badModel) Batch() int                                  { return 1 }
func (b badModel) Step([]float32, []int) (float32, int, error) { return 0, 0, b.err }
func (b badModel) Predict([]float32, int, []float32) error     { return b.err }
func (b badModel) Calibrate([]float32, int) error              { return b.err }
func (b badModel) Trainable() []Tensor                         { return nil }
func (b badModel) SetObserving(bool)                           {}
func (b badModel) FreezeBN(bool)                               {}
func (b badModel) MarshalState() ([]byte, error)               { return nil, b.err }
func (b badModel) UnmarshalState([]byte) error                 { return b.err }
