package onnx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/qatgo/qatgo/internal/atomicfile"
	pb "github.com/qatgo/qatgo/internal/onnxpb"
	"github.com/qatgo/qatgo/intmodel"
)

// The versions written into every file.
const (
	// Opset is the default-domain operator set the graph uses.
	Opset = 13
	// IRVersion is the ONNX IR version that goes with opset 13.
	IRVersion = 7
)

// Names of the graph's input and outputs.
const (
	InputName  = "input"  // float32 [N, C, H, W]
	OutputName = "logits" // float32 [N, C] (or [N, C, H, W] if the model ends unflattened)
	CodesName  = "codes"  // the last layer's integer codes (Exporter.Codes)
)

var (
	// ErrUnsupported is wrapped by errors about models the exporter cannot
	// write (a layer kind or format it does not know).
	ErrUnsupported = errors.New("onnx: unsupported")
	// ErrInvalidModel is wrapped (together with intmodel.ErrInvalid) by
	// errors about models that fail intmodel's validation.
	ErrInvalidModel = errors.New("onnx: invalid model")
)

// Format selects how quantized layers are written.
type Format int

const (
	// Integer writes each Conv2d/Linear as ConvInteger/MatMulInteger (int32
	// accumulators), an int32 bias Add and the gemmlowp fixed-point
	// requantization spelled out in int64 Mul/Add/Div/Where ops:
	// onnxruntime then computes exactly the codes of qatgo's integer runtime.
	Integer Format = iota
	// QLinear writes each Conv2d as QLinearConv and each Linear as a 1×1
	// QLinearConv (QLinearMatMul has no bias), with the float scales and
	// per-channel weight scales. The consumer then requantizes in float
	// (onnxruntime: float32(acc)·float32(S_X·S_W/S_Y), rounded half to
	// even), which can differ from the fixed-point codes by ±1.
	QLinear
	// QDQ writes float operators between QuantizeLinear/DequantizeLinear
	// pairs, per-channel int8 weights and int32 biases, as onnxruntime's
	// quantizer does (qdq.go): the form other toolchains consume. Codes can
	// differ from the integer runtime's by ±1 (float requantization).
	QDQ
)

func (f Format) String() string {
	switch f {
	case Integer:
		return "integer"
	case QLinear:
		return "qlinear"
	case QDQ:
		return "qdq"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the Format named s ("integer", "qlinear" or "qdq").
func ParseFormat(s string) (Format, error) {
	for _, f := range []Format{Integer, QLinear, QDQ} {
		if s == f.String() {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: ONNX format %q, want integer, qlinear or qdq", ErrUnsupported, s)
}

// Exporter writes intmodel.Models as ONNX files. The zero value writes the
// Integer format with the one output OutputName.
type Exporter struct {
	Format Format
	// Codes adds a second graph output, CodesName: the last layer's codes
	// before dequantization, uint8 (or int8 for a signed output).
	Codes bool
}

// Export writes m to w as an ONNX model in the Integer format.
func Export(m *intmodel.Model, w io.Writer) error { return Exporter{}.Export(m, w) }

// WriteFile writes m atomically to path as an ONNX model in the Integer
// format.
func WriteFile(path string, m *intmodel.Model) error { return Exporter{}.WriteFile(path, m) }

// Export writes m to w as an ONNX model.
func (e Exporter) Export(m *intmodel.Model, w io.Writer) error {
	b, err := e.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("onnx: writing model: %w", err)
	}
	return nil
}

// WriteFile writes m atomically (temp file, fsync, rename) to path.
func (e Exporter) WriteFile(path string, m *intmodel.Model) error {
	b, err := e.Marshal(m)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("onnx: writing %s: %w", path, err)
	}
	return nil
}

// Marshal returns the serialized ONNX ModelProto of m (deterministic bytes).
func (e Exporter) Marshal(m *intmodel.Model) ([]byte, error) {
	mp, err := e.build(m)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("onnx: encoding model: %w", err)
	}
	return b, nil
}

// storage describes how an activation's codes are held in the graph: always
// uint8, signed codes offset by 128 (the difference q − Z, all that the
// integer ops see, is unchanged, and MaxPool is monotone), so that every
// op gets the one input type all onnxruntime kernels accept.
type storage struct {
	zp, lo, hi int32 // zero point and clamp bounds of the stored codes
}

func offset(a intmodel.ActQuant) int32 {
	if a.Signed {
		return 128
	}
	return 0
}

func stored(a intmodel.ActQuant) storage {
	lo, hi := a.Range()
	off := offset(a)
	return storage{zp: a.ZeroPoint + off, lo: lo + off, hi: hi + off}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.]+`)

// build translates m into a ModelProto.
func (e Exporter) build(m *intmodel.Model) (*pb.ModelProto, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil model", ErrInvalidModel)
	}
	if e.Format != Integer && e.Format != QLinear && e.Format != QDQ {
		return nil, fmt.Errorf("%w: format %v", ErrUnsupported, e.Format)
	}
	// One entry per tensor of the graph model (0: the quantized input);
	// TensorShapes validates m.
	tshapes, err := m.TensorShapes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	acts, err := m.Acts()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	if e.Format == QDQ {
		return e.buildQDQ(m)
	}
	g := newGraph("qatgo")
	g.unique(InputName)
	g.unique(OutputName)
	if e.Codes {
		g.unique(CodesName)
	}
	in := m.InputShape
	g.g.Input = []*pb.ValueInfoProto{valueInfo(InputName, pb.TensorProto_FLOAT, -1, int64(in.C), int64(in.H), int64(in.W))}

	// Input quantization as qatgo does it (PyTorch's rule):
	// q = clamp(Z + nearbyint(x·float32(1/S))). QuantizeLinear itself
	// divides by S, which can round differently, so multiply by 1/S first
	// and quantize with scale 1 (exact).
	st := stored(m.Input)
	inv := float32(1) / m.Input.Scale
	x := g.node("Mul", "input_scaled", []string{InputName, g.scalar(pb.TensorProto_FLOAT, float64(inv))})
	x = g.node("QuantizeLinear", "input_q", []string{x, g.scalar(pb.TensorProto_FLOAT, 1), g.scalar(pb.TensorProto_UINT8, float64(st.zp))})
	x = clamp(g, x, st, "input_q_clamp")

	tensors := []tensorRef{{name: x, rank: 4}}
	lw := &layerWriter{g: g, format: e.Format}
	for i, l := range m.Layers {
		name := unsafeChars.ReplaceAllString(l.LayerName(), "_")
		if name == "" {
			name = l.Kind().String()
		}
		lw.prefix = fmt.Sprintf("%d_%s", i, name)
		ins := m.LayerInputs(i)
		lw.inputs = lw.inputs[:0]
		for _, t := range ins {
			lw.inputs = append(lw.inputs, tensorRef{name: tensors[t].name, rank: tensors[t].rank, shape: tshapes[t], act: acts[t]})
		}
		lw.cur, lw.rank, lw.shape, lw.act = lw.inputs[0].name, lw.inputs[0].rank, lw.inputs[0].shape, lw.inputs[0].act
		if err := lw.layer(l); err != nil {
			return nil, fmt.Errorf("onnx: layer %d (%s %q): %w", i, l.Kind(), l.LayerName(), err)
		}
		lw.shape, lw.act = tshapes[i+1], acts[i+1]
		tensors = append(tensors, tensorRef{name: lw.cur, rank: lw.rank})
	}

	out := stored(m.Output)
	var dims []int64
	if lw.rank == 4 {
		dims = []int64{-1, int64(lw.shape.C), int64(lw.shape.H), int64(lw.shape.W)}
	} else {
		dims = []int64{-1, int64(lw.shape.C)}
	}
	g.g.Node = append(g.g.Node, &pb.NodeProto{
		Name: ptr(OutputName), OpType: ptr("DequantizeLinear"), Output: []string{OutputName},
		Input: []string{lw.cur, g.scalar(pb.TensorProto_FLOAT, float64(m.Output.Scale)), g.scalar(pb.TensorProto_UINT8, float64(out.zp))},
	})
	g.g.Output = []*pb.ValueInfoProto{valueInfo(OutputName, pb.TensorProto_FLOAT, dims...)}
	if e.Codes {
		codes, dt := lw.cur, pb.TensorProto_UINT8
		if m.Output.Signed {
			dt = pb.TensorProto_INT8
			c := g.node("Cast", "codes_i32", []string{codes}, attrInt("to", int64(pb.TensorProto_INT32)))
			c = g.node("Sub", "codes_unoffset", []string{c, g.scalar(pb.TensorProto_INT32, 128)})
			codes = c
		}
		g.g.Node = append(g.g.Node, &pb.NodeProto{
			Name: ptr(CodesName), OpType: ptr("Cast"), Input: []string{codes}, Output: []string{CodesName},
			Attribute: []*pb.AttributeProto{attrInt("to", int64(dt))},
		})
		g.g.Output = append(g.g.Output, valueInfo(CodesName, dt, dims...))
	}

	mp := &pb.ModelProto{
		IrVersion:       ptr(int64(IRVersion)),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(Opset))}},
		ProducerName:    ptr("qatgo"),
		ProducerVersion: ptr("1"),
		DocString:       ptr(fmt.Sprintf("qatgo integer model, %s format", e.Format)),
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
	mp.MetadataProps = append(mp.MetadataProps, &pb.StringStringEntryProto{Key: ptr("qatgo.format"), Value: ptr(e.Format.String())})
	return mp, nil
}

// clamp adds a Clip of the uint8 codes x to [st.lo, st.hi] unless that is
// the whole uint8 range (which QuantizeLinear and the QLinear ops already
// saturate to).
func clamp(g *graph, x string, st storage, name string) string {
	if st.lo == 0 && st.hi == 255 {
		return x
	}
	return g.node("Clip", name, []string{x, g.scalar(pb.TensorProto_UINT8, float64(st.lo)), g.scalar(pb.TensorProto_UINT8, float64(st.hi))})
}

// tensorRef is one tensor of the model in the graph: its name (uint8
// codes), rank (4: [N,C,H,W], 2: [N,C]), shape and quantization.
type tensorRef struct {
	name  string
	rank  int
	shape intmodel.Shape
	act   intmodel.ActQuant
}

// layerWriter appends one layer after another. cur is the layer's (first)
// input tensor (uint8 codes), [N,C,H,W] (rank 4) or [N,C] (rank 2), and the
// layer leaves its output there; inputs are all the tensors it reads.
type layerWriter struct {
	g      *graph
	format Format
	prefix string
	rank   int
	cur    string
	shape  intmodel.Shape    // shape of cur (per image)
	act    intmodel.ActQuant // quantization of cur
	inputs []tensorRef
}

// input4D returns input k as a rank-4 tensor.
func (w *layerWriter) input4D(k int) string {
	t := w.inputs[k]
	if t.rank == 4 {
		return t.name
	}
	shape := w.g.int64s(w.name(fmt.Sprintf("in%d_shape4", k)), []int64{4}, []int64{-1, int64(t.shape.C), int64(t.shape.H), int64(t.shape.W)})
	return w.g.node("Reshape", w.name(fmt.Sprintf("in%d_4d", k)), []string{t.name, shape})
}

func (w *layerWriter) name(s string) string { return w.prefix + "/" + s }

// to4D reshapes a flat [N,K] tensor to [N,K,1,1].
func (w *layerWriter) to4D() {
	if w.rank == 4 {
		return
	}
	shape := w.g.int64s(w.name("shape4"), []int64{4}, []int64{-1, int64(w.shape.C), 1, 1})
	w.cur = w.g.node("Reshape", w.name("to4d"), []string{w.cur, shape})
	w.rank = 4
}

// to2D flattens [N,C,H,W] to [N,C·H·W] (C, H, W order, as intmodel.Flatten).
func (w *layerWriter) to2D() {
	if w.rank == 2 {
		return
	}
	w.cur = w.g.node("Flatten", w.name("flatten"), []string{w.cur}, attrInt("axis", 1))
	w.rank = 2
}

func (w *layerWriter) layer(l intmodel.Layer) error {
	switch l := l.(type) {
	case *intmodel.Conv2d:
		w.to4D()
		return w.conv(l)
	case *intmodel.Linear:
		w.to2D()
		return w.linear(l)
	case *intmodel.MaxPool2d:
		w.to4D()
		w.cur = w.g.node("MaxPool", w.name("maxpool"), []string{w.cur},
			attrInts("kernel_shape", int64(l.KernelH), int64(l.KernelW)),
			attrInts("strides", int64(l.StrideH), int64(l.StrideW)),
			attrInts("pads", int64(l.PadH), int64(l.PadW), int64(l.PadH), int64(l.PadW)))
		return nil
	case *intmodel.Flatten:
		w.to2D()
		return nil
	case *intmodel.AvgPool2d:
		w.to4D()
		if l.Requant != nil {
			return w.windowRescale(l.Pool2d, l.Requant, "avgpool")
		}
		return w.avgPool(l)
	case *intmodel.GlobalAvgPool:
		w.to4D()
		p := intmodel.Pool2d{KernelH: w.shape.H, KernelW: w.shape.W, StrideH: 1, StrideW: 1}
		return w.windowRescale(p, &l.Rescale, "gap")
	case *intmodel.Add:
		w.add(l)
		return nil
	case *intmodel.Concat:
		w.concat(l)
		return nil
	}
	return fmt.Errorf("%w: layer type %T", ErrUnsupported, l)
}

// avgPool writes average pooling on integer codes as intruntime computes
// it: the sum of the in-bounds true codes of each window (a depthwise
// ConvInteger with all-ones weights; its padding holds the zero point given
// to it, the storage offset, so padded positions add 0), divided by the
// number of in-bounds elements with TFLite's rounding (sum ± cnt/2)/cnt,
// ties away from zero. The ONNX default domain has no integer AveragePool.
func (w *layerWriter) avgPool(l *intmodel.AvgPool2d) error {
	g := w.g
	in := w.shape
	out, err := l.OutShape(in)
	if err != nil {
		return err
	}
	c := int64(in.C)
	ones := make([]int8, in.C*l.KernelH*l.KernelW)
	for i := range ones {
		ones[i] = 1
	}
	cnt := make([]int64, out.H*out.W)
	half, negHalf := make([]int64, len(cnt)), make([]int64, len(cnt))
	for y := range out.H {
		y0 := y*l.StrideH - l.PadH
		nh := min(y0+l.KernelH, in.H) - max(y0, 0)
		for x := range out.W {
			x0 := x*l.StrideW - l.PadW
			nw := min(x0+l.KernelW, in.W) - max(x0, 0)
			i := y*out.W + x
			cnt[i] = int64(nh * nw)
			half[i], negHalf[i] = cnt[i]/2, -(cnt[i] / 2)
		}
	}
	off := offset(w.act)
	cdims := []int64{1, 1, int64(out.H), int64(out.W)}
	i64 := pb.TensorProto_INT64
	sum := g.node("ConvInteger", w.name("sum"), []string{w.cur, g.int8s(w.name("ones"), []int64{c, 1, int64(l.KernelH), int64(l.KernelW)}, ones), g.scalar(pb.TensorProto_UINT8, float64(off))},
		attrInts("kernel_shape", int64(l.KernelH), int64(l.KernelW)),
		attrInts("strides", int64(l.StrideH), int64(l.StrideW)),
		attrInts("pads", int64(l.PadH), int64(l.PadW), int64(l.PadH), int64(l.PadW)),
		attrInts("dilations", 1, 1),
		attrInt("group", c))
	s := g.node("Cast", w.name("sum64"), []string{sum}, attrInt("to", int64(i64)))
	neg := g.node("Less", w.name("sum_neg"), []string{s, g.scalar(i64, 0)})
	r := g.node("Where", w.name("round"), []string{neg, g.int64s(w.name("neg_half_count"), cdims, negHalf), g.int64s(w.name("half_count"), cdims, half)})
	s = g.node("Add", w.name("rounded"), []string{s, r})
	s = g.node("Div", w.name("avg"), []string{s, g.int64s(w.name("count"), cdims, cnt)})
	if off != 0 {
		s = g.node("Add", w.name("offset"), []string{s, g.scalar(i64, float64(off))})
	}
	w.cur = g.node("Cast", w.name("q"), []string{s}, attrInt("to", int64(pb.TensorProto_UINT8)))
	return nil
}

func convAttrs(l *intmodel.Conv2d) []*pb.AttributeProto {
	return []*pb.AttributeProto{
		attrInts("kernel_shape", int64(l.KernelH), int64(l.KernelW)),
		attrInts("strides", int64(l.StrideH), int64(l.StrideW)),
		attrInts("pads", int64(l.PadH), int64(l.PadW), int64(l.PadH), int64(l.PadW)),
		attrInts("dilations", 1, 1),
		attrInt("group", int64(l.NumGroups())),
	}
}

func (w *layerWriter) conv(l *intmodel.Conv2d) error {
	q := &l.Quantized
	o := int64(l.OutChannels)
	wdims := []int64{o, int64(l.InChannels / l.NumGroups()), int64(l.KernelH), int64(l.KernelW)}
	if w.format == QLinear {
		w.cur = w.qlinearConv(q, l.OutChannels, wdims, convAttrs(l))
		return nil
	}
	xs := stored(q.InAct)
	wt := w.g.int8s(w.name("weight_q"), wdims, q.Weights)
	acc := w.g.node("ConvInteger", w.name("acc"), []string{w.cur, wt, w.g.scalar(pb.TensorProto_UINT8, float64(xs.zp))}, convAttrs(l)...)
	w.cur = w.requant(q, acc, l.OutChannels, []int64{o, 1, 1})
	return nil
}

func (w *layerWriter) linear(l *intmodel.Linear) error {
	q := &l.Quantized
	o, k := l.OutFeatures, l.InFeatures
	if w.format == QLinear {
		// A 1×1 convolution: QLinearMatMul takes no bias.
		w.to4D()
		w.cur = w.qlinearConv(q, o, []int64{int64(o), int64(k), 1, 1}, []*pb.AttributeProto{attrInts("kernel_shape", 1, 1)})
		w.shape = intmodel.Shape{C: o, H: 1, W: 1}
		w.to2D()
		return nil
	}
	// MatMulInteger computes x[N,K]·B[K,O]: B is the transposed weight.
	wt := make([]int8, k*o)
	for c := range o {
		for j := range k {
			wt[j*o+c] = q.Weights[c*k+j]
		}
	}
	xs := stored(q.InAct)
	b := w.g.int8s(w.name("weight_q_t"), []int64{int64(k), int64(o)}, wt)
	acc := w.g.node("MatMulInteger", w.name("acc"), []string{w.cur, b, w.g.scalar(pb.TensorProto_UINT8, float64(xs.zp))})
	w.cur = w.requant(q, acc, o, []int64{int64(o)})
	return nil
}

// qlinearConv writes one QLinearConv with int32 bias and the output clamp.
func (w *layerWriter) qlinearConv(q *intmodel.Quantized, outC int, wdims []int64, attrs []*pb.AttributeProto) string {
	g := w.g
	xs, ys := stored(q.InAct), stored(q.OutAct)
	var wScale, wZero string
	if len(q.WeightScale) == 1 {
		wScale = g.scalar(pb.TensorProto_FLOAT, float64(q.WeightScale[0]))
		wZero = g.scalar(pb.TensorProto_INT8, 0)
	} else {
		wScale = g.float32s(w.name("weight_scale"), []int64{int64(outC)}, q.WeightScale)
		wZero = g.int8s(w.name("weight_zero_point"), []int64{int64(outC)}, make([]int8, outC))
	}
	bias := q.Bias
	if bias == nil {
		bias = make([]int32, outC)
	}
	inputs := []string{
		w.cur, g.scalar(pb.TensorProto_FLOAT, float64(q.InAct.Scale)), g.scalar(pb.TensorProto_UINT8, float64(xs.zp)),
		g.int8s(w.name("weight_q"), wdims, q.Weights), wScale, wZero,
		g.scalar(pb.TensorProto_FLOAT, float64(q.OutAct.Scale)), g.scalar(pb.TensorProto_UINT8, float64(ys.zp)),
		g.int32s(w.name("bias_q"), []int64{int64(outC)}, bias),
	}
	y := g.node("QLinearConv", w.name("qlinearconv"), inputs, attrs...)
	return clamp(g, y, storage{lo: max(ys.lo, q.QMin+offset(q.OutAct)), hi: min(ys.hi, q.QMax+offset(q.OutAct))}, w.name("clamp"))
}

// requant adds the bias to the int32 accumulators acc and requantizes them
// exactly as intruntime does, per output channel (bshape broadcasts a
// per-channel vector against acc), in int64: mbqm, + Z_Y, clamp.
func (w *layerWriter) requant(q *intmodel.Quantized, acc string, outC int, bshape []int64) string {
	g := w.g
	x := acc
	if q.Bias != nil {
		x = g.node("Add", w.name("acc_bias"), []string{x, g.int32s(w.name("bias_q"), bshape, q.Bias)})
	}
	x = g.node("Cast", w.name("acc64"), []string{x}, attrInt("to", int64(pb.TensorProto_INT64)))
	x = w.mbqm(x, q.M0[:outC], q.Shift[:outC], bshape, "")
	return w.finish(x, q.OutAct, q.QMin, q.QMax, "")
}

// mbqm multiplies the int64 tensor x (int32 values) by M0·2^(shift−31) as
// fixedpoint.MultiplyByQuantizedMultiplier does, per channel (bshape
// broadcasts the per-channel vectors against x; nil: one scalar multiplier):
//
//	a   = clamp(x·2^max(shift,0), int32)              (left shift, saturated)
//	h   = (a·M0 + (a·M0 ≥ 0 ? 2^30 : 1−2^30)) / 2^31  (SaturatingRoundingDoublingHighMul;
//	                                                   Div truncates toward zero)
//	r   = (h ± 2^(e−1)) / 2^e, e = max(−shift,0)     (RoundingDivideByPOT: ties away from 0)
//
// a·M0 < 2^62 cannot overflow int64, and the saturating case a = M0 = −2^31
// cannot occur (M0 ≥ 0). tag distinguishes several multipliers of a layer.
func (w *layerWriter) mbqm(x string, m0s []int32, shifts []int, bshape []int64, tag string) string {
	g := w.g
	i64 := pb.TensorProto_INT64
	var left, m0, half, negHalf, pot []int64
	anyLeft, anyRight := false, false
	for c := range m0s {
		s := shifts[c]
		left = append(left, 1<<max(s, 0))
		m0 = append(m0, int64(m0s[c]))
		e := max(-s, 0)
		h := int64(0)
		if e > 0 {
			h = 1 << (e - 1)
			anyRight = true
		}
		if s > 0 {
			anyLeft = true
		}
		half, negHalf, pot = append(half, h), append(negHalf, -h), append(pot, 1<<e)
	}
	zero := g.scalar(i64, 0)
	if anyLeft {
		x = g.node("Mul", w.name(tag+"lshift"), []string{x, g.int64s(w.name(tag+"lshift_mul"), bshape, left)})
		x = g.node("Clip", w.name(tag+"lshift_sat"), []string{x, g.scalar(i64, math.MinInt32), g.scalar(i64, math.MaxInt32)})
	}
	x = g.node("Mul", w.name(tag+"mul_m0"), []string{x, g.int64s(w.name(tag+"m0"), bshape, m0)})
	neg := g.node("Less", w.name(tag+"mul_m0_neg"), []string{x, zero})
	nudge := g.node("Where", w.name(tag+"nudge"), []string{neg, g.scalar(i64, 1-(1<<30)), g.scalar(i64, 1<<30)})
	x = g.node("Add", w.name(tag+"mul_m0_nudged"), []string{x, nudge})
	x = g.node("Div", w.name(tag+"high_mul"), []string{x, g.scalar(i64, 1<<31)})
	if anyRight {
		neg := g.node("Less", w.name(tag+"high_mul_neg"), []string{x, zero})
		r := g.node("Where", w.name(tag+"round"), []string{neg, g.int64s(w.name(tag+"neg_half"), bshape, negHalf), g.int64s(w.name(tag+"half"), bshape, half)})
		x = g.node("Add", w.name(tag+"rounded"), []string{x, r})
		x = g.node("Div", w.name(tag+"rshift"), []string{x, g.int64s(w.name(tag+"pot"), bshape, pot)})
	}
	return x
}

// finish adds the output zero point (in storage codes) to the int64 tensor
// x, clamps it to [qmin, qmax] (true codes) and casts it to uint8 codes.
func (w *layerWriter) finish(x string, out intmodel.ActQuant, qmin, qmax int32, tag string) string {
	g := w.g
	i64 := pb.TensorProto_INT64
	off := offset(out)
	x = g.node("Add", w.name(tag+"plus_zp"), []string{x, g.scalar(i64, float64(out.ZeroPoint+off))})
	x = g.node("Clip", w.name(tag+"clamp"), []string{x, g.scalar(i64, float64(qmin+off)), g.scalar(i64, float64(qmax+off))})
	return g.node("Cast", w.name(tag+"q"), []string{x}, attrInt("to", int64(pb.TensorProto_UINT8)))
}

// centered returns input k's codes minus its zero point, q − Z, as int64
// [N,C,H,W].
func (w *layerWriter) centered(k int, tag string) string {
	g := w.g
	i64 := pb.TensorProto_INT64
	a := w.inputs[k].act
	x := g.node("Cast", w.name(tag+"64"), []string{w.input4D(k)}, attrInt("to", int64(i64)))
	return g.node("Sub", w.name(tag+"centered"), []string{x, g.scalar(i64, float64(a.ZeroPoint+offset(a)))})
}

// add writes intmodel.Add (TFLite's int8 ADD) in int64 ops: each input's
// q − Z times 2^LeftShift through its multiplier, the sum through the
// output multiplier, + Z_out, clamp.
func (w *layerWriter) add(l *intmodel.Add) {
	g := w.g
	i64 := pb.TensorProto_INT64
	shift := g.scalar(i64, float64(int64(1)<<l.LeftShift))
	a := g.node("Mul", w.name("a_shifted"), []string{w.centered(0, "a"), shift})
	a = w.mbqm(a, []int32{l.M0A}, []int{l.ShiftA}, nil, "a_")
	b := g.node("Mul", w.name("b_shifted"), []string{w.centered(1, "b"), shift})
	b = w.mbqm(b, []int32{l.M0B}, []int{l.ShiftB}, nil, "b_")
	s := g.node("Add", w.name("sum"), []string{a, b})
	s = w.mbqm(s, []int32{l.M0Out}, []int{l.ShiftOut}, nil, "out_")
	w.cur = w.finish(s, l.Out, l.QMin, l.QMax, "")
	w.rank = 4
}

// concat writes intmodel.Concat: inputs on the output's quantization as
// they are, the others through their Rescale (count 1), then Concat along
// channels.
func (w *layerWriter) concat(l *intmodel.Concat) {
	parts := make([]string, len(l.In))
	for k := range l.In {
		if w.inputs[k].act == l.Out {
			parts[k] = w.input4D(k)
			continue
		}
		tag := fmt.Sprintf("in%d_", k)
		r := &l.Requant[k]
		x := w.mbqm(w.centered(k, tag), []int32{r.M0}, []int{r.Shift}, nil, tag)
		parts[k] = w.finish(x, r.Out, r.QMin, r.QMax, tag)
	}
	w.cur = w.g.node("Concat", w.name("concat"), parts, attrInt("axis", 1))
	w.rank = 4
}

// windowRescale writes a rescaled average pool (AvgPool2d with Requant;
// GlobalAvgPool as the window H×W): the window sums Σ (q − Z_in) by a
// depthwise all-ones ConvInteger whose zero point is Z_in (so padded
// positions, filled with it, add 0), then the Rescale.
func (w *layerWriter) windowRescale(p intmodel.Pool2d, r *intmodel.Rescale, tag string) error {
	g := w.g
	c := int64(w.shape.C)
	ones := make([]int8, w.shape.C*p.KernelH*p.KernelW)
	for i := range ones {
		ones[i] = 1
	}
	zp := r.In.ZeroPoint + offset(r.In)
	sum := g.node("ConvInteger", w.name(tag+"_sum"), []string{w.cur, g.int8s(w.name(tag+"_ones"), []int64{c, 1, int64(p.KernelH), int64(p.KernelW)}, ones), g.scalar(pb.TensorProto_UINT8, float64(zp))},
		attrInts("kernel_shape", int64(p.KernelH), int64(p.KernelW)),
		attrInts("strides", int64(p.StrideH), int64(p.StrideW)),
		attrInts("pads", int64(p.PadH), int64(p.PadW), int64(p.PadH), int64(p.PadW)),
		attrInts("dilations", 1, 1),
		attrInt("group", c))
	x := g.node("Cast", w.name(tag+"_sum64"), []string{sum}, attrInt("to", int64(pb.TensorProto_INT64)))
	x = w.mbqm(x, []int32{r.M0}, []int{r.Shift}, nil, tag+"_")
	w.cur = w.finish(x, r.Out, r.QMin, r.QMax, tag+"_")
	return nil
}
