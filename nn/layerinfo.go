package nn

import "gorgonia.org/tensor"

// LayerInfo describes one layer of a compiled Net for export: its kind and
// geometry, its float weight and bias with any batch norm folded in (using
// the running statistics), and the quantizers of its weight, its input (the
// quantizer whose grid the input is on: the previous quantized layer's
// output quantizer or the model's input quantizer) and its output. Absent
// quantizers are zero NamedQuantizers.
type LayerInfo struct {
	Name string
	// Kind is "linear", "conv2d", "convbn", "batchnorm2d", "relu",
	// "maxpool2d", "avgpool2d", "flatten" or "dropout".
	Kind string
	// InShape and OutShape are per sample (no batch axis): (C, H, W) or (F).
	InShape, OutShape []int
	// InChannels and OutChannels are channels for convolutions and batch
	// norms, features for linear layers.
	InChannels, OutChannels int
	// Kernel, Stride, Padding and Dilation are (h, w) for convolutions and pools.
	Kernel, Stride, Padding, Dilation [2]int
	// ReLU is true when a ReLU is fused after the layer (before OutputQ).
	ReLU bool
	// Weight (WeightShape: (O, I) or (O, I, kh, kw); (C) scale for a batch
	// norm) and Bias (len O) are float copies, folded for "convbn".
	Weight                   []float32
	WeightShape              []int
	Bias                     []float32
	WeightQ, InputQ, OutputQ NamedQuantizer
}

type describer interface{ describe() LayerInfo }

type layerRecord struct {
	l       describer
	in, out tensor.Shape
	inQ     NamedQuantizer
}

func (r layerRecord) info() LayerInfo {
	li := r.l.describe()
	li.InShape = append([]int(nil), r.in[1:]...)
	li.OutShape = append([]int(nil), r.out[1:]...)
	li.InputQ = r.inQ
	return li
}
