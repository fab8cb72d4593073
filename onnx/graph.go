package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	pb "github.com/qatgo/qatgo/internal/onnxpb"
)

// graph accumulates the nodes and initializers of one ONNX graph. Every
// tensor name it hands out is unique; scalar constants are shared.
type graph struct {
	g       *pb.GraphProto
	names   map[string]bool
	scalars map[scalarKey]string
}

type scalarKey struct {
	dt pb.TensorProto_DataType
	v  float64
}

func newGraph(name string) *graph {
	return &graph{
		g:       &pb.GraphProto{Name: ptr(name)},
		names:   map[string]bool{},
		scalars: map[scalarKey]string{},
	}
}

func ptr[T any](v T) *T { return &v }

// unique returns name, or name with a numeric suffix if it is taken.
func (g *graph) unique(name string) string {
	n := name
	for i := 1; g.names[n]; i++ {
		n = fmt.Sprintf("%s_%d", name, i)
	}
	g.names[n] = true
	return n
}

// initializer adds a constant tensor of the given type and dims whose
// little-endian bytes are raw, and returns its name.
func (g *graph) initializer(name string, dt pb.TensorProto_DataType, dims []int64, raw []byte) string {
	name = g.unique(name)
	g.g.Initializer = append(g.g.Initializer, &pb.TensorProto{
		Name:     ptr(name),
		DataType: ptr(int32(dt)),
		Dims:     dims,
		RawData:  raw,
	})
	return name
}

func (g *graph) float32s(name string, dims []int64, v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return g.initializer(name, pb.TensorProto_FLOAT, dims, raw)
}

func (g *graph) int8s(name string, dims []int64, v []int8) string {
	raw := make([]byte, len(v))
	for i, x := range v {
		raw[i] = byte(x)
	}
	return g.initializer(name, pb.TensorProto_INT8, dims, raw)
}

func (g *graph) int32s(name string, dims []int64, v []int32) string {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(x))
	}
	return g.initializer(name, pb.TensorProto_INT32, dims, raw)
}

func (g *graph) int64s(name string, dims []int64, v []int64) string {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return g.initializer(name, pb.TensorProto_INT64, dims, raw)
}

// scalar returns the name of a shared rank-0 constant of type dt holding v
// (v must be representable in dt).
func (g *graph) scalar(dt pb.TensorProto_DataType, v float64) string {
	k := scalarKey{dt, v}
	if n, ok := g.scalars[k]; ok {
		return n
	}
	var raw []byte
	var tn string
	switch dt {
	case pb.TensorProto_FLOAT:
		raw = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v)))
		tn = "f32"
	case pb.TensorProto_UINT8:
		raw, tn = []byte{uint8(v)}, "u8"
	case pb.TensorProto_INT8:
		raw, tn = []byte{byte(int8(v))}, "i8"
	case pb.TensorProto_INT32:
		raw, tn = binary.LittleEndian.AppendUint32(nil, uint32(int32(v))), "i32"
	case pb.TensorProto_INT64:
		raw, tn = binary.LittleEndian.AppendUint64(nil, uint64(int64(v))), "i64"
	default:
		panic(fmt.Sprintf("onnx: scalar of type %v", dt)) // programmer error
	}
	n := g.initializer(fmt.Sprintf("const_%s_%s", tn, fmtNum(v)), dt, nil, raw)
	g.scalars[k] = n
	return n
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		if v < 0 {
			return fmt.Sprintf("m%d", int64(-v))
		}
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}

// node appends a node with one output, named out (made unique), and
// returns the output's name.
func (g *graph) node(op, out string, inputs []string, attrs ...*pb.AttributeProto) string {
	out = g.unique(out)
	g.g.Node = append(g.g.Node, &pb.NodeProto{
		Name:      ptr(out),
		OpType:    ptr(op),
		Input:     inputs,
		Output:    []string{out},
		Attribute: attrs,
	})
	return out
}

func attrInt(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: ptr(name), Type: ptr(pb.AttributeProto_INT), I: ptr(v)}
}

func attrInts(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: ptr(name), Type: ptr(pb.AttributeProto_INTS), Ints: v}
}

// valueInfo describes a tensor of element type dt; a dimension of -1 is the
// symbolic batch size "N".
func valueInfo(name string, dt pb.TensorProto_DataType, dims ...int64) *pb.ValueInfoProto {
	shape := &pb.TensorShapeProto{}
	for _, d := range dims {
		dim := &pb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &pb.ValueInfoProto{
		Name: ptr(name),
		Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
			ElemType: ptr(int32(dt)),
			Shape:    shape,
		}}},
	}
}
