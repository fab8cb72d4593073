package onnx

import (
	"fmt"
	"sort"

	pb "github.com/qatgo/qatgo/internal/onnxpb"
	"github.com/qatgo/qatgo/intmodel"
)

// The QDQ form (Format QDQ) is what onnxruntime's own quantizer
// (quantize_static, QuantFormat.QDQ) writes and what TensorRT and OpenVINO
// consume: float operators between QuantizeLinear/DequantizeLinear pairs.
//
//   - every activation is QuantizeLinear → DequantizeLinear with its (S, Z),
//     uint8 (unsigned) or int8 (signed); a clamp narrower than the 8-bit
//     type (fewer bits, a fused ReLU6) is a Clip on the codes between them;
//     a fused ReLU is the clamp at Z, which QuantizeLinear's saturation at
//     the zero point already is;
//   - weights are int8 initializers with DequantizeLinear, per-channel
//     scales on axis 0 (zero points 0);
//   - biases are int32 initializers q_b with DequantizeLinear of scale
//     S_W·S_X (float32 product, as onnxruntime's quantizer computes it),
//     zero point 0, axis 0.
//
// The consumer computes in float between the pairs, so its codes can differ
// from the fixed-point integer runtime's by ±1 where a value falls near a
// rounding boundary; qatgo's tests count those differences.

// qdqWriter writes one model in the QDQ form. Tensors are float
// (dequantized) values.
type qdqWriter struct {
	g      *graph
	prefix string
}

func (w *qdqWriter) name(s string) string { return w.prefix + "/" + s }

// actType is the ONNX type holding a's codes.
func actType(a intmodel.ActQuant) pb.TensorProto_DataType {
	if a.Signed {
		return pb.TensorProto_INT8
	}
	return pb.TensorProto_UINT8
}

// quantize returns the codes of float tensor x on grid a, clamped to
// [lo, hi] when that is narrower than the 8-bit type.
func (w *qdqWriter) quantize(x string, a intmodel.ActQuant, lo, hi int32, what string) string {
	g := w.g
	dt := actType(a)
	q := g.node("QuantizeLinear", w.name(what+"_q"), []string{x, g.scalar(pb.TensorProto_FLOAT, float64(a.Scale)), g.scalar(dt, float64(a.ZeroPoint))})
	tlo, thi := int32(0), int32(255)
	if a.Signed {
		tlo, thi = -128, 127
	}
	if lo > tlo || hi < thi {
		q = g.node("Clip", w.name(what+"_clip"), []string{q, g.scalar(dt, float64(lo)), g.scalar(dt, float64(hi))})
	}
	return q
}

// dequantize returns the float value of codes q on grid a.
func (w *qdqWriter) dequantize(q string, a intmodel.ActQuant, what string) string {
	g := w.g
	return g.node("DequantizeLinear", w.name(what+"_dq"), []string{q, g.scalar(pb.TensorProto_FLOAT, float64(a.Scale)), g.scalar(actType(a), float64(a.ZeroPoint))})
}

// qdq puts float tensor x on grid a (clamped to [lo, hi]).
func (w *qdqWriter) qdq(x string, a intmodel.ActQuant, lo, hi int32, what string) string {
	return w.dequantize(w.quantize(x, a, lo, hi, what), a, what)
}

func fullRange(a intmodel.ActQuant) (int32, int32) { return a.Range() }

// params writes a quantized layer's weight and bias as dequantized
// initializers.
func (w *qdqWriter) params(q *intmodel.Quantized, wdims []int64) (weight, bias string) {
	g := w.g
	o := wdims[0]
	zeros8 := make([]int8, o)
	var ws, wz string
	if len(q.WeightScale) == 1 {
		ws, wz = g.scalar(pb.TensorProto_FLOAT, float64(q.WeightScale[0])), g.scalar(pb.TensorProto_INT8, 0)
	} else {
		ws, wz = g.float32s(w.name("weight_scale"), []int64{o}, q.WeightScale), g.int8s(w.name("weight_zero_point"), []int64{o}, zeros8)
	}
	weight = g.node("DequantizeLinear", w.name("weight_dq"), []string{g.int8s(w.name("weight_q"), wdims, q.Weights), ws, wz}, attrInt("axis", 0))
	if q.Bias == nil {
		return weight, ""
	}
	bs := make([]float32, o)
	for c := range bs {
		sw := q.WeightScale[0]
		if len(q.WeightScale) > 1 {
			sw = q.WeightScale[c]
		}
		bs[c] = sw * q.InAct.Scale
	}
	bias = g.node("DequantizeLinear", w.name("bias_dq"), []string{g.int32s(w.name("bias_q"), []int64{o}, q.Bias),
		g.float32s(w.name("bias_scale"), []int64{o}, bs), g.int32s(w.name("bias_zero_point"), []int64{o}, make([]int32, o))}, attrInt("axis", 0))
	return weight, bias
}

// buildQDQ writes m in the QDQ form.
func (e Exporter) buildQDQ(m *intmodel.Model) (*pb.ModelProto, error) {
	g := newGraph("qatgo")
	g.unique(InputName)
	g.unique(OutputName)
	if e.Codes {
		g.unique(CodesName)
	}
	in := m.InputShape
	g.g.Input = []*pb.ValueInfoProto{valueInfo(InputName, pb.TensorProto_FLOAT, -1, int64(in.C), int64(in.H), int64(in.W))}
	tshapes, err := m.TensorShapes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	acts, err := m.Acts()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	w := &qdqWriter{g: g, prefix: "input"}
	lo, hi := fullRange(m.Input)
	tensors := []tensorRef{{name: w.qdq(InputName, m.Input, lo, hi, "input"), rank: 4, shape: tshapes[0], act: acts[0]}}
	for i, l := range m.Layers {
		name := unsafeChars.ReplaceAllString(l.LayerName(), "_")
		if name == "" {
			name = l.Kind().String()
		}
		w.prefix = fmt.Sprintf("%d_%s", i, name)
		var ins []tensorRef
		for _, t := range m.LayerInputs(i) {
			ins = append(ins, tensors[t])
		}
		out, rank, err := w.layer(l, ins, tshapes[i+1])
		if err != nil {
			return nil, fmt.Errorf("onnx: layer %d (%s %q): %w", i, l.Kind(), l.LayerName(), err)
		}
		tensors = append(tensors, tensorRef{name: out, rank: rank, shape: tshapes[i+1], act: acts[i+1]})
	}
	last := tensors[len(tensors)-1]
	var dims []int64
	if last.rank == 4 {
		dims = []int64{-1, int64(last.shape.C), int64(last.shape.H), int64(last.shape.W)}
	} else {
		dims = []int64{-1, int64(last.shape.C)}
	}
	// The output's codes (exact: quantizing a dequantized code gives it back).
	w.prefix = "output"
	lo, hi = fullRange(m.Output)
	codes := w.quantize(last.name, m.Output, lo, hi, "output")
	dt := actType(m.Output)
	g.g.Node = append(g.g.Node, &pb.NodeProto{
		Name: ptr(OutputName), OpType: ptr("DequantizeLinear"), Output: []string{OutputName},
		Input: []string{codes, g.scalar(pb.TensorProto_FLOAT, float64(m.Output.Scale)), g.scalar(dt, float64(m.Output.ZeroPoint))},
	})
	g.g.Output = []*pb.ValueInfoProto{valueInfo(OutputName, pb.TensorProto_FLOAT, dims...)}
	if e.Codes {
		g.g.Node = append(g.g.Node, &pb.NodeProto{Name: ptr(CodesName), OpType: ptr("Identity"), Input: []string{codes}, Output: []string{CodesName}})
		g.g.Output = append(g.g.Output, valueInfo(CodesName, dt, dims...))
	}
	mp := &pb.ModelProto{
		IrVersion:       ptr(int64(IRVersion)),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(Opset))}},
		ProducerName:    ptr("qatgo"),
		ProducerVersion: ptr("1"),
		DocString:       ptr("qatgo quantized model, QDQ format"),
		Graph:           g.g,
	}
	keys := make([]string, 0, len(m.Meta))
	for k := range m.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		mp.MetadataProps = append(mp.MetadataProps, &pb.StringStringEntryProto{Key: ptr(k), Value: ptr(m.Meta[k])})
	}
	mp.MetadataProps = append(mp.MetadataProps, &pb.StringStringEntryProto{Key: ptr("qatgo.format"), Value: ptr(QDQ.String())})
	return mp, nil
}

// to4D and to2D reshape a float tensor for the op that reads it.
func (w *qdqWriter) to4D(t tensorRef, k int) string {
	if t.rank == 4 {
		return t.name
	}
	shape := w.g.int64s(w.name(fmt.Sprintf("in%d_shape4", k)), []int64{4}, []int64{-1, int64(t.shape.C), int64(t.shape.H), int64(t.shape.W)})
	return w.g.node("Reshape", w.name(fmt.Sprintf("in%d_4d", k)), []string{t.name, shape})
}

func (w *qdqWriter) to2D(t tensorRef) string {
	if t.rank == 2 {
		return t.name
	}
	return w.g.node("Flatten", w.name("flatten"), []string{t.name}, attrInt("axis", 1))
}

// layer writes l on its float inputs and returns its float output and rank.
func (w *qdqWriter) layer(l intmodel.Layer, ins []tensorRef, out intmodel.Shape) (string, int, error) {
	g := w.g
	x := ins[0]
	switch l := l.(type) {
	case *intmodel.Conv2d:
		q := &l.Quantized
		wt, b := w.params(q, []int64{int64(l.OutChannels), int64(l.InChannels / l.NumGroups()), int64(l.KernelH), int64(l.KernelW)})
		args := []string{w.to4D(x, 0), wt}
		if b != "" {
			args = append(args, b)
		}
		y := g.node("Conv", w.name("conv"), args, convAttrs(l)...)
		return w.qdq(y, q.OutAct, q.QMin, q.QMax, "out"), 4, nil
	case *intmodel.Linear:
		q := &l.Quantized
		wt, b := w.params(q, []int64{int64(l.OutFeatures), int64(l.InFeatures)})
		args := []string{w.to2D(x), wt}
		if b != "" {
			args = append(args, b)
		}
		y := g.node("Gemm", w.name("gemm"), args, attrInt("transB", 1))
		return w.qdq(y, q.OutAct, q.QMin, q.QMax, "out"), 2, nil
	case *intmodel.MaxPool2d:
		// The maximum of codes on one grid is on that grid: no new pair.
		y := g.node("MaxPool", w.name("maxpool"), []string{w.to4D(x, 0)}, poolAttrs(l.Pool2d)...)
		return y, 4, nil
	case *intmodel.Flatten:
		return w.to2D(x), 2, nil
	case *intmodel.AvgPool2d:
		y := g.node("AveragePool", w.name("avgpool"), []string{w.to4D(x, 0)}, append(poolAttrs(l.Pool2d), attrInt("count_include_pad", 1))...)
		if l.Requant == nil {
			// TFLite's average stays on the input's grid.
			lo, hi := fullRange(x.act)
			return w.qdq(y, x.act, lo, hi, "out"), 4, nil
		}
		return w.qdq(y, l.Requant.Out, l.Requant.QMin, l.Requant.QMax, "out"), 4, nil
	case *intmodel.GlobalAvgPool:
		y := g.node("GlobalAveragePool", w.name("gap"), []string{w.to4D(x, 0)})
		return w.qdq(y, l.Out, l.QMin, l.QMax, "out"), 4, nil
	case *intmodel.Add:
		a, b := ins[0].name, ins[1].name
		if ins[0].rank != ins[1].rank {
			a, b = w.to4D(ins[0], 0), w.to4D(ins[1], 1)
		}
		rank := max(ins[0].rank, ins[1].rank)
		y := g.node("Add", w.name("add"), []string{a, b})
		return w.qdq(y, l.Out, l.QMin, l.QMax, "out"), rank, nil
	case *intmodel.Concat:
		var xs []string
		for k, t := range ins {
			xs = append(xs, w.to4D(t, k))
		}
		y := g.node("Concat", w.name("concat"), xs, attrInt("axis", 1))
		lo, hi := fullRange(l.Out)
		return w.qdq(y, l.Out, lo, hi, "out"), 4, nil
	}
	return "", 0, fmt.Errorf("%w: layer type %T in the QDQ format", ErrUnsupported, l)
}

func poolAttrs(p intmodel.Pool2d) []*pb.AttributeProto {
	return []*pb.AttributeProto{
		attrInts("kernel_shape", int64(p.KernelH), int64(p.KernelW)),
		attrInts("strides", int64(p.StrideH), int64(p.StrideW)),
		attrInts("pads", int64(p.PadH), int64(p.PadW), int64(p.PadH), int64(p.PadW)),
	}
}
