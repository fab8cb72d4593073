package nn

import (
	"errors"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrUntraced is returned (wrapped) by Net.Graph (and so by export and
// analysis) for a model with a module whose output comes from graph
// operations other than qatgo's layers: it trains, but it has no quantized
// or integer form.
var ErrUntraced = errors.New("nn: module outside qatgo's layers")

// LayerInfo describes one layer of a compiled Net for export: its kind and
// geometry, its float weight and bias with any batch norm folded in (using
// the running statistics), and the quantizers of its weight, its inputs (the
// quantizers whose grids the inputs are on: the producing layers' output
// quantizers or the model's input quantizer) and its output. Absent
// quantizers are zero NamedQuantizers.
type LayerInfo struct {
	Name string
	// Kind is "linear", "conv2d", "convbn", "batchnorm2d", "relu", "relu6",
	// "maxpool2d", "avgpool2d", "globalavgpool", "flatten", "add" or
	// "concat".
	Kind string
	// Inputs are the indices (in Net.Graph's order) of the layers whose
	// outputs this layer reads; -1 is the model input. One entry except for
	// "add" (two) and "concat" (two or more).
	Inputs []int
	// InShape and OutShape are per sample (no batch axis): (C, H, W) or (F);
	// InShape is the first input's.
	InShape, OutShape []int
	// InChannels and OutChannels are channels for convolutions and batch
	// norms, features for linear layers.
	InChannels, OutChannels int
	// Groups is the convolution's group count (1: dense; InChannels:
	// depthwise).
	Groups int
	// Kernel, Stride, Padding and Dilation are (h, w) for convolutions and pools.
	Kernel, Stride, Padding, Dilation [2]int
	// ReLU is true when a ReLU is fused after the layer (before OutputQ);
	// ReLU6 when the fused activation is min(max(x, 0), 6).
	ReLU, ReLU6 bool
	// Weight (WeightShape: (O, I) or (O, I/groups, kh, kw); (C) scale for a
	// batch norm) and Bias (len O) are float copies, folded for "convbn".
	Weight      []float32
	WeightShape []int
	Bias        []float32
	// WeightQ quantizes the weight, InputQ is the grid of the (first) input,
	// InputQs those of every input, OutputQ quantizes the output.
	WeightQ, InputQ, OutputQ NamedQuantizer
	InputQs                  []NamedQuantizer
}

type describer interface{ describe() LayerInfo }

type layerRecord struct {
	l    describer
	ins  []tensor.Shape
	out  tensor.Shape
	inQs []NamedQuantizer
	from []int
	val  *G.Value // the output of the last run, with KeepActivations
}

func (r layerRecord) info() LayerInfo {
	li := r.l.describe()
	if len(r.ins) > 0 {
		li.InShape = append([]int(nil), r.ins[0][1:]...)
		li.InputQ = r.inQs[0]
	}
	li.OutShape = append([]int(nil), r.out[1:]...)
	li.InputQs = append([]NamedQuantizer(nil), r.inQs...)
	li.Inputs = append([]int(nil), r.from...)
	return li
}
