package nn

import (
	"github.com/qatgo/qatgo/fakequant"
	G "gorgonia.org/gorgonia"
)

// Model is a network with its input quantizer (PyTorch's QuantStub): the
// input is fake-quantized before the first layer, so the integer model
// knows the input's (S, Z). qconfig.Prepare makes one from any module.
type Model struct {
	ModelName string
	Body      Module
	// InputQ quantizes the input; nil when activations stay float.
	InputQ fakequant.Quantizer
	// QuantSpec is the quantization spec the model was prepared with
	// ("fp32", "w8a8", ...), for provenance.
	QuantSpec string
}

func (m *Model) Name() string     { return m.ModelName }
func (m *Model) Params() []*Param { return paramsOf(m.Body) }
func (m *Model) Quantizers() []NamedQuantizer {
	var qs []NamedQuantizer
	if m.InputQ != nil {
		qs = append(qs, NamedQuantizer{"input", m.InputQ})
	}
	return append(qs, quantizersOf(m.Body)...)
}

func (m *Model) Build(b *Builder, x *G.Node) (*G.Node, error) {
	x, err := b.Quantize("input", m.InputQ, x)
	if err != nil {
		return nil, err
	}
	b.trace[x] = traced{rec: modelInput, grid: nq("input", m.InputQ)}
	return b.Build(m.Body, x)
}

// Quantizable is a layer with a weight quantizer and an output quantizer
// (Linear, Conv2d, ConvBn).
type Quantizable interface {
	Module
	SetQuantizers(weight, output fakequant.Quantizer)
}

// OutputQuantizable is a layer without weights whose output leaves its
// input's grid and gets a quantizer of its own (Add, Concat, AvgPool2d,
// GlobalAvgPool).
type OutputQuantizable interface {
	Module
	SetOutputQuantizer(output fakequant.Quantizer)
}

func (l *Linear) SetQuantizers(wq, aq fakequant.Quantizer)  { l.WQ, l.AQ = wq, aq }
func (c *Conv2d) SetQuantizers(wq, aq fakequant.Quantizer)  { c.WQ, c.AQ = wq, aq }
func (cb *ConvBn) SetQuantizers(wq, aq fakequant.Quantizer) { cb.Conv.WQ, cb.Conv.AQ = wq, aq }

func (a *Add) SetOutputQuantizer(q fakequant.Quantizer)           { a.AQ = q }
func (c *Concat) SetOutputQuantizer(q fakequant.Quantizer)        { c.AQ = q }
func (p *AvgPool2d) SetOutputQuantizer(q fakequant.Quantizer)     { p.AQ = q }
func (p *GlobalAvgPool) SetOutputQuantizer(q fakequant.Quantizer) { p.AQ = q }

// FuseActivation fuses act (a *ReLU or *ReLU6) into prev (a Linear, Conv2d,
// ConvBn or Residual without an activation yet) and reports whether it did.
func FuseActivation(prev, act Module) bool { return fuseActivation(prev, act) }

// IsDepthwise reports whether c convolves each input channel separately
// (groups = input channels > 1).
func (c *Conv2d) IsDepthwise() bool { return c.Groups > 1 && c.Groups == c.InC }
