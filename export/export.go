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
	layers, output, err := net.Graph()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
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
	// tensor[i] is the integer model's tensor holding layer i's output
	// (0: the input); acts[t] is tensor t's quantization.
	tensor := make([]int, len(layers))
	acts := []intmodel.ActQuant{in}
	sequential := true
	for i, li := range layers {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: layer %d (%s %q): %s", ErrUnsupported, i, li.Kind, li.Name, fmt.Sprintf(format, args...))
		}
		ins := make([]int, len(li.Inputs))
		for k, j := range li.Inputs {
			if j >= 0 {
				ins[k] = tensor[j]
			}
		}
		if len(ins) == 0 {
			return nil, fail("no inputs")
		}
		cur := acts[ins[0]]
		var l intmodel.Layer
		var out intmodel.ActQuant
		switch li.Kind {
		case "conv2d", "convbn", "linear":
			q, err := quantized(li)
			if err != nil {
				return nil, fail("%v", err)
			}
			if q.InAct != cur {
				return nil, fail("input quantization %+v is not its input's %+v", q.InAct, cur)
			}
			out = q.OutAct
			if li.Kind == "linear" {
				l = &intmodel.Linear{Name: li.Name, InFeatures: li.InChannels, OutFeatures: li.OutChannels, Quantized: *q}
				break
			}
			if li.Dilation != [2]int{1, 1} {
				return nil, fail("dilation %v: the integer model has no dilated convolution", li.Dilation)
			}
			l = &intmodel.Conv2d{Name: li.Name, InChannels: li.InChannels, OutChannels: li.OutChannels,
				KernelH: li.Kernel[0], KernelW: li.Kernel[1], StrideH: li.Stride[0], StrideW: li.Stride[1],
				PadH: li.Padding[0], PadW: li.Padding[1], Groups: li.Groups, Quantized: *q}
		case "maxpool2d":
			out = cur
			l = &intmodel.MaxPool2d{Name: li.Name, Pool2d: pool2d(li)}
		case "flatten":
			out = cur
			l = &intmodel.Flatten{Name: li.Name}
		case "avgpool2d", "globalavgpool":
			if li.OutputQ.Q == nil {
				return nil, fail("an average pool without an output quantizer leaves the quantization grid; prepare the model with activation quantization")
			}
			if out, err = nn.ActQuantOf(li.OutputQ); err != nil {
				return nil, fail("%v", err)
			}
			if li.Kind == "globalavgpool" {
				if len(li.InShape) != 3 {
					return nil, fail("input shape %v, want (C, H, W)", li.InShape)
				}
				if l, err = intmodel.NewGlobalAvgPool(li.Name, cur, out, li.InShape[1]*li.InShape[2]); err != nil {
					return nil, fail("%v", err)
				}
				break
			}
			if l, err = intmodel.NewAvgPool2dRequant(li.Name, pool2d(li), cur, out); err != nil {
				return nil, fail("%v", err)
			}
		case "add":
			if out, err = nn.ActQuantOf(li.OutputQ); err != nil {
				return nil, fail("%v", err)
			}
			add, err := intmodel.NewAdd(li.Name, acts[ins[0]], acts[ins[1]], out)
			if err != nil {
				return nil, fail("%v", err)
			}
			add.QMin, add.QMax = intmodel.ClampFor(out, li.ReLU, li.ReLU6)
			l = add
		case "concat":
			if out, err = nn.ActQuantOf(li.OutputQ); err != nil {
				return nil, fail("%v", err)
			}
			in := make([]intmodel.ActQuant, len(ins))
			for k, t := range ins {
				in[k] = acts[t]
			}
			if l, err = intmodel.NewConcat(li.Name, in, out); err != nil {
				return nil, fail("%v", err)
			}
		case "relu", "relu6":
			return nil, fail("an activation not fused into the preceding quantized layer has no integer form here (put it right after a Linear, Conv2d, ConvBn or Residual in a Sequential)")
		case "batchnorm2d":
			return nil, fail("a batch norm not folded into a convolution has no integer form (place it right after a Conv2d in a Sequential: qconfig.Prepare folds the pair)")
		default:
			return nil, fail("unknown layer kind")
		}
		m.Layers = append(m.Layers, l)
		m.Inputs = append(m.Inputs, ins)
		acts = append(acts, out)
		tensor[i] = len(m.Layers)
		if len(ins) != 1 || ins[0] != len(m.Layers)-1 {
			sequential = false
		}
	}
	if output < 0 || tensor[output] != len(m.Layers) {
		return nil, fmt.Errorf("%w: the model's output is not produced by its last layer", ErrUnsupported)
	}
	if sequential {
		m.Inputs = nil // a chain: the v1 form
	}
	m.Output = acts[len(acts)-1]
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return m, nil
}

func pool2d(li nn.LayerInfo) intmodel.Pool2d {
	return intmodel.Pool2d{KernelH: li.Kernel[0], KernelW: li.Kernel[1], StrideH: li.Stride[0], StrideW: li.Stride[1],
		PadH: li.Padding[0], PadW: li.Padding[1]}
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
