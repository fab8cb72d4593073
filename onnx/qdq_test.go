package onnx

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/qatgo/qatgo/internal/graphtest"
	pb "github.com/qatgo/qatgo/internal/onnxpb"
	"github.com/qatgo/qatgo/intmodel"
)

func qdqModels(t *testing.T) map[string]*intmodel.Model {
	t.Helper()
	ms := map[string]*intmodel.Model{}
	for _, wbits := range []int{8, 4} {
		for name, f := range map[string]func(uint64, int) (*intmodel.Model, error){
			"residual": graphtest.Residual, "inverted": graphtest.InvertedResidual, "concat": graphtest.ConcatNet} {
			m, err := f(uint64(wbits), wbits)
			if err != nil {
				t.Fatal(err)
			}
			consistentScales(t, m)
			ms[name+map[int]string{8: "_w8", 4: "_w4"}[wbits]] = m
		}
	}
	return ms
}

// consistentScales makes every layer's weight scales those its multipliers
// imply (graphtest draws multipliers for a useful output spread, and the
// integer forms never read the weight scales; the QDQ form reads only them):
// S_W = M·S_Y/S_X, then M0 and Shift again from the scales.
func consistentScales(t *testing.T, m *intmodel.Model) {
	t.Helper()
	for _, l := range m.Layers {
		var q *intmodel.Quantized
		switch l := l.(type) {
		case *intmodel.Conv2d:
			q = &l.Quantized
		case *intmodel.Linear:
			q = &l.Quantized
		default:
			continue
		}
		for c := range q.M0 {
			mult := float64(q.M0[c]) * math.Ldexp(1, q.Shift[c]-31)
			q.WeightScale[c] = float32(mult * float64(q.OutAct.Scale) / float64(q.InAct.Scale))
		}
		if err := q.SetRequant(len(q.M0)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestQDQStructure checks the QDQ form's shape on the residual model: no
// integer ops; every Conv/Gemm reads a DequantizeLinear of int8 weights
// (per-channel scales, axis 0) and of an int32 bias whose scales are
// S_W·S_X.
func TestQDQStructure(t *testing.T) {
	m := qdqModels(t)["residual_w8"]
	b, err := Exporter{Format: QDQ}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	inits := map[string]*pb.TensorProto{}
	for _, in := range mp.Graph.Initializer {
		inits[in.GetName()] = in
	}
	producer := map[string]*pb.NodeProto{}
	ops := map[string]int{}
	for _, n := range mp.Graph.Node {
		ops[n.GetOpType()]++
		for _, o := range n.Output {
			producer[o] = n
		}
	}
	for _, bad := range []string{"ConvInteger", "MatMulInteger", "QLinearConv", "Mul", "Div", "Where"} {
		if ops[bad] > 0 {
			t.Errorf("%d %s nodes in the QDQ form", ops[bad], bad)
		}
	}
	convs := 0
	for _, n := range mp.Graph.Node {
		if n.GetOpType() != "Conv" && n.GetOpType() != "Gemm" {
			continue
		}
		convs++
		wdq, bdq := producer[n.Input[1]], producer[n.Input[2]]
		if wdq.GetOpType() != "DequantizeLinear" || bdq.GetOpType() != "DequantizeLinear" {
			t.Fatalf("%s: weight from %s, bias from %s", n.GetName(), wdq.GetOpType(), bdq.GetOpType())
		}
		wq, ws := inits[wdq.Input[0]], inits[wdq.Input[1]]
		bq, bs := inits[bdq.Input[0]], inits[bdq.Input[1]]
		if pb.TensorProto_DataType(wq.GetDataType()) != pb.TensorProto_INT8 || pb.TensorProto_DataType(bq.GetDataType()) != pb.TensorProto_INT32 {
			t.Errorf("%s: weight %v, bias %v; want int8, int32", n.GetName(), wq.GetDataType(), bq.GetDataType())
		}
		if len(ws.GetDims()) != 1 || ws.GetDims()[0] != wq.GetDims()[0] || len(bs.GetDims()) != 1 || bs.GetDims()[0] != wq.GetDims()[0] {
			t.Errorf("%s: weight scales %v, bias scales %v for weight %v; want per output channel", n.GetName(), ws.GetDims(), bs.GetDims(), wq.GetDims())
		}
		for _, dq := range []*pb.NodeProto{wdq, bdq} {
			if len(dq.Attribute) != 1 || dq.Attribute[0].GetName() != "axis" || dq.Attribute[0].GetI() != 0 {
				t.Errorf("%s: %s without axis 0", n.GetName(), dq.GetName())
			}
		}
	}
	if convs == 0 {
		t.Fatal("no Conv or Gemm")
	}
	// Bias scale = S_W·S_X of the first convolution, by hand.
	c := m.Layers[0].(*intmodel.Conv2d)
	want := c.WeightScale[0] * c.InAct.Scale
	var got float32
	for _, in := range mp.Graph.Initializer {
		if strings.HasSuffix(in.GetName(), "/bias_scale") {
			got = float32frombytes(in.GetRawData())
			break
		}
	}
	if got != want {
		t.Errorf("first bias scale %v, want S_W·S_X = %v", got, want)
	}
}

// TestQDQChecker runs the ONNX checker (Debian's python3-onnx) on every
// QDQ export; it skips, saying why, where python3 or the onnx module is
// missing.
func TestQDQChecker(t *testing.T) {
	// Debian's python3 (where python3-onnx installs) before any other.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Skip("python3 not installed: the ONNX checker is not run")
		}
	}
	// onnx.checker, not just onnx: a directory named onnx on the path
	// imports as an empty namespace package.
	if out, err := exec.Command(py, "-c", "import onnx.checker").CombinedOutput(); err != nil {
		t.Skipf("python3 has no onnx module (apt-get install python3-onnx): %s", out)
	}
	dir := t.TempDir()
	for name, m := range qdqModels(t) {
		path := filepath.Join(dir, name+".onnx")
		if err := (Exporter{Format: QDQ, Codes: true}).WriteFile(path, m); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "-c", "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True)", path).CombinedOutput()
		if err != nil {
			t.Errorf("%s: onnx.checker: %v\n%s", name, err, out)
		}
	}
}

func float32frombytes(b []byte) float32 {
	if len(b) < 4 {
		return 0
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b))
}
