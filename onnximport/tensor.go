package onnximport

import (
	"encoding/binary"
	"fmt"
	"math"

	pb "github.com/qatgo/qatgo/internal/onnxpb"
)

// maxElems bounds a tensor read from a file (a guard against absurd dims in
// a corrupt file, not a limit any real CNN reaches).
const maxElems = 1 << 28

// constant is an initializer or Constant node value.
type constant struct {
	dims []int
	f    []float32 // float tensors (and integer ones converted)
	i    []int64   // integer tensors (shapes, axes)
}

func (c *constant) size() int {
	n := 1
	for _, d := range c.dims {
		n *= d
	}
	return n
}

// decodeTensor reads t's values as float32 (FLOAT, DOUBLE) or int64 (INT32,
// INT64); other types and external data are refused.
func decodeTensor(t *pb.TensorProto) (*constant, error) {
	c := &constant{}
	n := 1
	for _, d := range t.GetDims() {
		if d < 0 || d > maxElems {
			return nil, fmt.Errorf("tensor %q: dimension %d", t.GetName(), d)
		}
		c.dims = append(c.dims, int(d))
		n *= int(d)
		if n > maxElems {
			return nil, fmt.Errorf("tensor %q: %v elements is too many", t.GetName(), t.GetDims())
		}
	}
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, fmt.Errorf("tensor %q: external data is not supported (export with the weights inside the file)", t.GetName())
	}
	raw := t.GetRawData()
	dt := pb.TensorProto_DataType(t.GetDataType())
	switch dt {
	case pb.TensorProto_FLOAT:
		if raw != nil {
			if len(raw) != 4*n {
				return nil, fmt.Errorf("tensor %q: %d raw bytes for %d float32 values", t.GetName(), len(raw), n)
			}
			c.f = make([]float32, n)
			for i := range c.f {
				c.f[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		} else {
			if len(t.GetFloatData()) != n {
				return nil, fmt.Errorf("tensor %q: %d values for shape %v", t.GetName(), len(t.GetFloatData()), c.dims)
			}
			c.f = append([]float32(nil), t.GetFloatData()...)
		}
	case pb.TensorProto_DOUBLE:
		var v []float64
		if raw != nil {
			if len(raw) != 8*n {
				return nil, fmt.Errorf("tensor %q: %d raw bytes for %d float64 values", t.GetName(), len(raw), n)
			}
			v = make([]float64, n)
			for i := range v {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		} else {
			v = t.GetDoubleData()
		}
		if len(v) != n {
			return nil, fmt.Errorf("tensor %q: %d values for shape %v", t.GetName(), len(v), c.dims)
		}
		c.f = make([]float32, n)
		for i, x := range v {
			c.f[i] = float32(x)
		}
	case pb.TensorProto_INT64, pb.TensorProto_INT32:
		w := 8
		if dt == pb.TensorProto_INT32 {
			w = 4
		}
		if raw != nil {
			if len(raw) != w*n {
				return nil, fmt.Errorf("tensor %q: %d raw bytes for %d %v values", t.GetName(), len(raw), n, dt)
			}
			c.i = make([]int64, n)
			for i := range c.i {
				if w == 8 {
					c.i[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
				} else {
					c.i[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
				}
			}
		} else if dt == pb.TensorProto_INT64 {
			c.i = append([]int64(nil), t.GetInt64Data()...)
		} else {
			for _, v := range t.GetInt32Data() {
				c.i = append(c.i, int64(v))
			}
		}
		if len(c.i) != n {
			return nil, fmt.Errorf("tensor %q: %d values for shape %v", t.GetName(), len(c.i), c.dims)
		}
		c.f = make([]float32, n)
		for k, v := range c.i {
			c.f[k] = float32(v)
		}
	default:
		return nil, fmt.Errorf("tensor %q: data type %v is not supported", t.GetName(), dt)
	}
	return c, nil
}
