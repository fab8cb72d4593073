package onnximport_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/qatgo/qatgo/internal/onnxpb"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/onnximport"
)

func lenetProto(t *testing.T) *pb.ModelProto {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, "lenet5.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var m pb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func marshal(t *testing.T, m *pb.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportStructure(t *testing.T) {
	for _, test := range []struct {
		model string
		kinds []string // layer kinds in order, after fusion
	}{
		{"lenet5", []string{"conv2d", "maxpool2d", "conv2d", "maxpool2d", "flatten", "linear", "linear", "linear"}},
		{"resnet", []string{"convbn", "convbn", "convbn", "add", "convbn", "convbn", "convbn", "add", "convbn", "convbn", "convbn", "add", "globalavgpool", "linear"}},
	} {
		m, err := onnximport.ReadFile(filepath.Join(refDir, test.model+".onnx"), onnximport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		net, err := nn.Compile(&nn.Model{ModelName: "m", Body: m.Graph}, nn.CompileConfig{Batch: 2, InputShape: m.InputShape, Classes: m.Classes})
		if err != nil {
			t.Fatal(err)
		}
		ls, _, err := net.Graph()
		net.Close()
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, l := range ls {
			kinds = append(kinds, l.Kind)
		}
		if strings.Join(kinds, " ") != strings.Join(test.kinds, " ") {
			t.Errorf("%s: layers %v, want %v", test.model, kinds, test.kinds)
		}
	}
}

func TestImportErrors(t *testing.T) {
	good := marshal(t, lenetProto(t))
	for _, test := range []struct {
		name string
		data func() []byte
		is   error
		msg  string
	}{
		{"empty", func() []byte { return nil }, onnximport.ErrNotONNX, "empty"},
		{"text", func() []byte { return []byte("this is not a model\n") }, onnximport.ErrNotONNX, "not an ONNX model"},
		{"truncated", func() []byte { return good[:len(good)/2] }, onnximport.ErrNotONNX, "truncated"},
		{"op", func() []byte {
			m := lenetProto(t)
			m.Graph.Node[1].OpType = proto.String("Sigmoid")
			return marshal(t, m)
		}, onnximport.ErrUnsupported, `node "/relu1/Relu" (Sigmoid): operator is not supported`},
		{"attribute", func() []byte {
			m := lenetProto(t)
			m.Graph.Node[2].Attribute = append(m.Graph.Node[2].Attribute, &pb.AttributeProto{Name: proto.String("ceil_mode"), I: proto.Int64(1), Type: pb.AttributeProto_INT.Enum()})
			return marshal(t, m)
		}, onnximport.ErrUnsupported, `node "/pool1/MaxPool" (MaxPool): attribute "ceil_mode" = 1`},
		{"unknown attribute", func() []byte {
			m := lenetProto(t)
			m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, &pb.AttributeProto{Name: proto.String("foo"), I: proto.Int64(1), Type: pb.AttributeProto_INT.Enum()})
			return marshal(t, m)
		}, onnximport.ErrUnsupported, `node "/conv1/Conv" (Conv): attribute "foo" is not supported`},
		{"opset", func() []byte {
			m := lenetProto(t)
			m.OpsetImport[0].Version = proto.Int64(9)
			return marshal(t, m)
		}, onnximport.ErrUnsupported, "opset 9"},
	} {
		_, err := onnximport.Parse(test.data(), onnximport.Options{})
		if err == nil || !errors.Is(err, test.is) || !strings.Contains(err.Error(), test.msg) {
			t.Errorf("%s: error %v, want %v containing %q", test.name, err, test.is, test.msg)
		}
	}
}
