package export

import (
	"errors"
	"fmt"

	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/nn"
)

// ErrUnsupported is returned (wrapped) for models or layers that have no
// exact integer form.
var ErrUnsupported = errors.New("export: unsupported model")

// FromNet exports net (a compiled, trained QAT model) as an integer model.
// The result is validated. Meta records the model's name and quantization
// spec when the net's module is an *nn.Model.
func FromNet(net *nn.Net) (*intmodel.Model, error) {
	if net == nil {
		return nil, fmt.Errorf("%w: nil net", ErrUnsupported)
	}
	layers := net.Layers()
	var inQ nn.NamedQuantizer
	for _, q := range net.Quantizers() {
		if q.Name == "input" {
			inQ = q
		}
	}
	if inQ.Q == nil {
		return nil, fmt.Errorf("%w: the model has no input quantizer: an FP32 model has no integer form (train it with --quant w8a8 or similar)", ErrUnsupported)
	}
	in, err := actQuant("input", inQ)
	if err != nil {
		return nil, err
	}
	cfg := net.Config()
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: cfg.InputShape[0], H: cfg.InputShape[1], W: cfg.InputShape[2]},
		Meta: map[string]string{"exporter": "qatgo export.FromNet"}}
	if mod, ok := net.Module().(*nn.Model); ok {
		m.Meta["model"] = mod.ModelName
		m.Meta["quant"] = mod.QuantSpec
	}
	cur := in
	for i, li := range layers {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: layer %d (%s %q): %s", ErrUnsupported, i, li.Kind, li.Name, fmt.Sprintf(format, args...))
		}
		switch li.Kind {
		case "conv2d", "convbn", "linear":
			q, err := quantized(li)
			if err != nil {
				return nil, fail("%v", err)
			}
			if q.InAct != cur {
				return nil, fail("input quantization %+v is not the previous output's %+v", q.InAct, cur)
			}
			cur = q.OutAct
			if li.Kind == "linear" {
				m.Layers = append(m.Layers, &intmodel.Linear{Name: li.Name, InFeatures: li.InChannels, OutFeatures: li.OutChannels, Quantized: *q})
				continue
			}
			if li.Dilation != [2]int{1, 1} {
				return nil, fail("dilation %v: the integer model has no dilated convolution", li.Dilation)
			}
			m.Layers = append(m.Layers, &intmodel.Conv2d{Name: li.Name, InChannels: li.InChannels, OutChannels: li.OutChannels,
				KernelH: li.Kernel[0], KernelW: li.Kernel[1], StrideH: li.Stride[0], StrideW: li.Stride[1],
				PadH: li.Padding[0], PadW: li.Padding[1], Quantized: *q})
		case "maxpool2d":
			m.Layers = append(m.Layers, &intmodel.MaxPool2d{Name: li.Name, Pool2d: intmodel.Pool2d{
				KernelH: li.Kernel[0], KernelW: li.Kernel[1], StrideH: li.Stride[0], StrideW: li.Stride[1], PadH: li.Padding[0], PadW: li.Padding[1]}})
		case "flatten":
			m.Layers = append(m.Layers, &intmodel.Flatten{Name: li.Name})
		case "dropout":
			// The identity at evaluation time.
		case "avgpool2d":
			return nil, fail("average pooling leaves the quantization grid in the float simulation, so the integer model could not match it exactly")
		case "relu":
			return nil, fail("a ReLU not fused into the preceding quantized layer has no integer form here")
		case "batchnorm2d":
			return nil, fail("a batch norm not folded into a convolution (use ConvBn) has no integer form")
		default:
			return nil, fail("unknown layer kind")
		}
	}
	m.Output = cur
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return m, nil
}

// actQuant converts a per-tensor activation quantizer of at most 8 bits.
func actQuant(what string, q nn.NamedQuantizer) (intmodel.ActQuant, error) {
	p, err := q.Q.QParams()
	if err != nil {
		return intmodel.ActQuant{}, fmt.Errorf("%w: %s quantizer %s: %v", ErrUnsupported, what, q.Name, err)
	}
	if len(p.Scale) != 1 {
		return intmodel.ActQuant{}, fmt.Errorf("%w: %s quantizer %s has %d scales, want one (per tensor)", ErrUnsupported, what, q.Name, len(p.Scale))
	}
	return actFrom(p.Scheme.Bits, p.Scheme.Signed, p.Scale[0], p.ZeroPoint[0], q.Name)
}

func actFrom(bits int, signed bool, s float32, z int32, name string) (intmodel.ActQuant, error) {
	if bits > 8 {
		return intmodel.ActQuant{}, fmt.Errorf("%w: activation %s has %d bits; the integer model holds at most 8", ErrUnsupported, name, bits)
	}
	a := intmodel.ActQuant{Scale: s, ZeroPoint: z, Bits: bits, Signed: signed}
	if err := a.Validate(); err != nil {
		return intmodel.ActQuant{}, fmt.Errorf("%w: activation %s: %v", ErrUnsupported, name, err)
	}
	return a, nil
}

// quantized converts one layer's nn.IntegerParams.
func quantized(li nn.LayerInfo) (*intmodel.Quantized, error) {
	p, err := nn.IntegerParams(li)
	if err != nil {
		return nil, err
	}
	if p.WeightBits > 8 {
		return nil, fmt.Errorf("%d-bit weights; the integer model holds at most 8", p.WeightBits)
	}
	in, err := actFrom(p.In.Scheme.Bits, p.In.Scheme.Signed, p.In.Scale[0], p.In.ZeroPoint[0], li.InputQ.Name)
	if err != nil {
		return nil, err
	}
	out, err := actFrom(p.Out.Scheme.Bits, p.Out.Scheme.Signed, p.Out.Scale[0], p.Out.ZeroPoint[0], li.OutputQ.Name)
	if err != nil {
		return nil, err
	}
	w := make([]int8, len(p.Weights))
	for i, v := range p.Weights {
		w[i] = int8(v) // within the WeightBits range (≤ 8 bits) by construction
	}
	return &intmodel.Quantized{WeightBits: p.WeightBits, Weights: w, WeightScale: p.WeightScale, InAct: in, OutAct: out,
		Bias: p.Bias, M0: p.M0, Shift: p.Shift, QMin: p.QMin, QMax: p.QMax}, nil
}
