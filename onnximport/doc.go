// Package onnximport reads float ONNX CNNs (opset 11–17, as torch.onnx.export
// writes them) into qatgo nn models that train, quantize (qconfig.Prepare)
// and export like the built-in ones.
//
// The ONNX node list becomes a Graph: a module holding one nn layer per
// computing node, wired by the ONNX edges, whose Build calls each layer's
// Build (or Add.Apply / Concat.Apply) so that nn's trace sees every layer.
// While reading, a BatchNormalization that follows a Conv becomes an
// nn.ConvBn and a Relu or Clip(0, 6) after a Conv, Gemm or Add is fused into
// it, as torch.ao's fusion would; Identity and Dropout (at evaluation) are
// aliases. Any other operator, or an attribute value qatgo cannot honour,
// is an error naming the node, its op type and the attribute.
package onnximport
