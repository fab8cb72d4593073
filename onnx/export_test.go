package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/qatgo/qatgo/internal/onnxpb"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
)

func parse(t *testing.T, b []byte) *pb.ModelProto {
	t.Helper()
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatalf("parsing the exported model: %v", err)
	}
	return &mp
}

func dims(v *pb.ValueInfoProto) string {
	var s []string
	for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
		if p := d.GetDimParam(); p != "" {
			s = append(s, p)
		} else {
			s = append(s, fmt.Sprint(d.GetDimValue()))
		}
	}
	return fmt.Sprintf("%v%v", pb.TensorProto_DataType(v.GetType().GetTensorType().GetElemType()), s)
}

// TestStructure parses the exported tiny model back and checks versions,
// inputs and outputs, initializer shapes and types, that every node input
// is defined before use, and the operator sequence.
func TestStructure(t *testing.T) {
	m := tinyModel()
	for _, test := range []struct {
		format Format
		inits  map[string]string // initializer → type and dims
		ops    []string          // distinct op types in order of first use
	}{
		{Integer, map[string]string{
			"0_conv1/weight_q":     "INT8[2 1 3 3]",
			"0_conv1/bias_q":       "INT32[2 1 1]",
			"0_conv1/m0":           "INT64[2 1 1]",
			"0_conv1/pot":          "INT64[2 1 1]",
			"3_fc/weight_q_t":      "INT8[18 3]",
			"3_fc/bias_q":          "INT32[3]",
			"3_fc/m0":              "INT64[3]",
			"const_u8_3":           "UINT8[]",
			"const_i64_1073741824": "INT64[]",
		}, []string{"Mul", "QuantizeLinear", "ConvInteger", "Add", "Cast", "Less", "Where", "Div", "Clip", "MaxPool", "Flatten", "MatMulInteger", "DequantizeLinear", "Sub"}},
		{QLinear, map[string]string{
			"0_conv1/weight_q":     "INT8[2 1 3 3]",
			"0_conv1/weight_scale": "FLOAT[2]",
			"0_conv1/bias_q":       "INT32[2]",
			"3_fc/weight_q":        "INT8[3 18 1 1]",
			"3_fc/bias_q":          "INT32[3]",
		}, []string{"Mul", "QuantizeLinear", "QLinearConv", "Clip", "MaxPool", "Flatten", "Reshape", "DequantizeLinear", "Cast", "Sub"}},
	} {
		b, err := Exporter{Format: test.format, Codes: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		mp := parse(t, b)
		if mp.GetIrVersion() != 7 || len(mp.GetOpsetImport()) != 1 || mp.GetOpsetImport()[0].GetVersion() != 13 || mp.GetOpsetImport()[0].GetDomain() != "" {
			t.Errorf("%v: ir_version %d, opsets %v, want 7 and opset 13 of the default domain", test.format, mp.GetIrVersion(), mp.GetOpsetImport())
		}
		g := mp.GetGraph()
		if len(g.GetInput()) != 1 || g.GetInput()[0].GetName() != "input" || dims(g.GetInput()[0]) != "FLOAT[N 1 6 6]" {
			t.Errorf("%v: inputs %v, want input FLOAT[N 1 6 6]", test.format, g.GetInput())
		}
		var outs []string
		for _, o := range g.GetOutput() {
			outs = append(outs, o.GetName()+" "+dims(o))
		}
		if want := "[logits FLOAT[N 3] codes INT8[N 3]]"; fmt.Sprint(outs) != want {
			t.Errorf("%v: outputs %v, want %s", test.format, outs, want)
		}
		defined := map[string]bool{"input": true}
		inits := map[string]string{}
		for _, in := range g.GetInitializer() {
			var d []int64
			d = append(d, in.GetDims()...)
			inits[in.GetName()] = fmt.Sprintf("%v%v", pb.TensorProto_DataType(in.GetDataType()), d)
			defined[in.GetName()] = true
			if n, want := len(in.GetRawData()), elems(in.GetDims())*elemSize(pb.TensorProto_DataType(in.GetDataType())); n != want {
				t.Errorf("%v: initializer %s has %d bytes, want %d", test.format, in.GetName(), n, want)
			}
		}
		for name, want := range test.inits {
			if inits[name] != want {
				t.Errorf("%v: initializer %s is %q, want %q", test.format, name, inits[name], want)
			}
		}
		var ops []string
		for _, n := range g.GetNode() {
			for _, in := range n.GetInput() {
				if !defined[in] {
					t.Errorf("%v: node %s (%s) uses %q before it is defined", test.format, n.GetName(), n.GetOpType(), in)
				}
			}
			for _, o := range n.GetOutput() {
				if defined[o] {
					t.Errorf("%v: %q defined twice", test.format, o)
				}
				defined[o] = true
			}
			if !slices.Contains(ops, n.GetOpType()) {
				ops = append(ops, n.GetOpType())
			}
		}
		if fmt.Sprint(ops) != fmt.Sprint(test.ops) {
			t.Errorf("%v: ops %v, want %v", test.format, ops, test.ops)
		}
		meta := map[string]string{}
		for _, p := range mp.GetMetadataProps() {
			meta[p.GetKey()] = p.GetValue()
		}
		if meta["source"] != "tinyModel" || meta["qatgo.format"] != test.format.String() {
			t.Errorf("%v: metadata %v", test.format, meta)
		}
		// Deterministic bytes.
		b2, err := Exporter{Format: test.format, Codes: true}.Marshal(m)
		if err != nil || !bytes.Equal(b, b2) {
			t.Errorf("%v: two exports differ (err %v)", test.format, err)
		}
	}
}

func elems(d []int64) int {
	n := 1
	for _, v := range d {
		n *= int(v)
	}
	return n
}

func elemSize(dt pb.TensorProto_DataType) int {
	switch dt {
	case pb.TensorProto_INT8, pb.TensorProto_UINT8:
		return 1
	case pb.TensorProto_INT32, pb.TensorProto_FLOAT:
		return 4
	case pb.TensorProto_INT64:
		return 8
	}
	return -1
}

func TestExportErrors(t *testing.T) {
	bad := tinyModel()
	bad.Layers[0].(*intmodel.Conv2d).M0 = nil
	odd := tinyModel()
	odd.Layers[1] = oddLayer{}
	for _, test := range []struct {
		name string
		e    Exporter
		m    *intmodel.Model
		want []error
		msg  string
	}{
		{"nil", Exporter{}, nil, []error{ErrInvalidModel}, "nil model"},
		{"invalid", Exporter{}, bad, []error{ErrInvalidModel, intmodel.ErrInvalid}, "multipliers"},
		{"unknown layer", Exporter{}, odd, []error{ErrInvalidModel, intmodel.ErrInvalid}, "unknown layer type"},
		{"format", Exporter{Format: 7}, tinyModel(), []error{ErrUnsupported}, "Format(7)"},
	} {
		err := test.e.Export(test.m, &bytes.Buffer{})
		if err == nil {
			t.Errorf("%s: no error", test.name)
			continue
		}
		for _, w := range test.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: %v is not %v", test.name, err, w)
			}
		}
		if !strings.HasPrefix(err.Error(), "onnx: ") || !strings.Contains(err.Error(), test.msg) {
			t.Errorf("%s: error %q, want the prefix onnx: and %q", test.name, err, test.msg)
		}
	}
}

// oddLayer is a layer type that intmodel does not know.
type oddLayer struct{}

func (oddLayer) Kind() intmodel.Kind { return 99 }
func (oddLayer) LayerName() string   { return "odd" }
func (oddLayer) OutShape(in intmodel.Shape) (intmodel.Shape, error) {
	return in, nil
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteFile(t *testing.T) {
	m := tinyModel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.onnx")
	if err := WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Export(m, &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("WriteFile wrote %d bytes, Export %d, want the same bytes", len(got), buf.Len())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the model (no temp file)", len(ents))
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x.onnx"), m); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("WriteFile into a missing directory: %v, want an error naming the path", err)
	}
	if err := Export(m, failWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Export to a failing writer: %v", err)
	}
}

// The fixed-point requantization the Integer graph spells out, worked by
// hand, against the test's reference and intruntime's.
func TestRequantTable(t *testing.T) {
	for _, test := range []struct {
		x, m0 int32
		shift int
		want  int32
	}{
		// M = 0.1 = 1717986918·2^(−3−31): 1000·0.8 = 800, 800/8 = 100.
		{1000, 1717986918, -3, 100},
		{-1000, 1717986918, -3, -100},
		// M0 = 2^30 (0.5), shift 0: 5·0.5 = 2.5 → 3 (ties up), −2.5 → −2 (toward zero).
		{5, 1 << 30, 0, 3},
		{-5, 1 << 30, 0, -2},
		// shift −1: −3·0.5 = −1.5 → −1 (high mul), −1/2 = −0.5 → −1 (RDBPOT: away from zero).
		{-3, 1 << 30, -1, -1},
		// Double rounding: 1·0.5 → 1, 1/2 → 1, though 1·0.25 would round to 0.
		{1, 1 << 30, -1, 1},
		// Left shift 2: 100·4 = 400, ·0.5 = 200.
		{100, 1 << 30, 2, 200},
		// Saturated left shift: 2^30·4 saturates to 2^31−1, ·0.5 → 2^30.
		{1 << 30, 1 << 30, 2, 1 << 30},
		// M0 = 0 (multiplier flushed to zero).
		{12345, 0, 0, 0},
	} {
		if got := refMBQM(test.x, test.m0, test.shift); got != test.want {
			t.Errorf("reference MultiplyByQuantizedMultiplier(%d, %d, %d) = %d, want %d", test.x, test.m0, test.shift, got, test.want)
		}
		if got := intruntime.MultiplyByQuantizedMultiplier(test.x, test.m0, test.shift); got != test.want {
			t.Errorf("intruntime.MultiplyByQuantizedMultiplier(%d, %d, %d) = %d, want %d", test.x, test.m0, test.shift, got, test.want)
		}
	}
}
