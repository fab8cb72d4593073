package train

import (
	"fmt"

	"github.com/qatgo/qatgo/nn"
)

// NetModel adapts a compiled float32 nn.Net to the loop's Model. It panics if
// the net was compiled for float64 (gradient-check builds are not trained).
func NetModel(n *nn.Net) Model { return netModel{n} }

type netModel struct{ *nn.Net }

func (m netModel) Trainable() []Tensor {
	var ts []Tensor
	for _, p := range m.Params() {
		if !p.Trainable {
			continue
		}
		v, ok1 := p.Value.Data().([]float32)
		g, ok2 := p.Grad.Data().([]float32)
		if !ok1 || !ok2 {
			panic(fmt.Sprintf("train: parameter %s is not float32", p.Name))
		}
		ts = append(ts, Tensor{Name: p.Name, Value: v, Grad: g, Decay: p.Decay, LRScale: p.LRScale})
	}
	return ts
}
