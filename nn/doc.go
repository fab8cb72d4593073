// Package nn builds neural networks for quantization-aware training on top
// of gorgonia: layers (Linear, Conv2d, ConvBn, BatchNorm2d, ReLU, MaxPool2d,
// AvgPool2d, Flatten, Dropout, Sequential), the models of the project
// (LeNet-5, LeNet-300-100, VGG-small), quantization configs ("w8a8", per-layer
// JSON overrides) and a compiled Net that runs a training graph and an
// evaluation graph sharing one set of parameter tensors.
//
// A Module describes a model; it owns its Params (persistent tensors) and its
// Quantizers. Compile builds the module twice, once for training (batch
// statistics, dropout on, observers as configured) and once for evaluation
// (running statistics, dropout off, observers frozen), each graph with its
// own gorgonia TapeMachine, built once and fed batch after batch: nothing is
// rebuilt per batch. Parameters are shared by pointer, so an optimizer that
// updates Param.Value in place is seen by both graphs.
//
// Quantizable layers (Conv2d, Linear, ConvBn) hold a weight quantizer and an
// output-activation quantizer; the model also has an input quantizer (as
// PyTorch's QuantStub). The activation quantizer of a layer followed by a
// ReLU sits after the ReLU (PyTorch's fused ConvReLU/LinearReLU), so ReLU
// outputs get an unsigned grid with zero point 0. Layers reports, for export,
// every layer's geometry, folded float weight and bias and the quantizers of
// its weight, input and output.
//
// Training uses the float simulation (conv + bias in float32, then the
// output fake-quant). Evaluation (Predict) computes every quantized layer
// the way the exported integer model does — exact integer accumulation,
// int32 bias, fixed-point requantization from package fixedpoint — so that
// the fake-quant model and the integer model never disagree (integer-exact
// evaluation, on by default; see SetIntegerExactEval and IntegerParams).
package nn
