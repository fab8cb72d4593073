package nn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/fakequant"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// newQuantizer is the one place where nn makes quantizers from a setting.
//
// Until packages fakequant (concrete quantizers) and observers land in this
// tree it returns a minimal affine quantizer with min-max and moving-average
// observers (stubQuantizer); swapping in fakequant.NewAffine(observers.New(...))
// here is the only change needed.
func newQuantizer(t TensorQuant) (fakequant.Quantizer, error) {
	if err := t.Scheme.Validate(); err != nil {
		return nil, err
	}
	if t.Method != "affine" {
		return nil, fmt.Errorf("nn: quantizer method %q is not available yet", t.Method)
	}
	switch t.Observer {
	case "minmax", "ema":
	default:
		return nil, fmt.Errorf("nn: observer %q is not available yet (have minmax, ema)", t.Observer)
	}
	return &stubQuantizer{s: t.Scheme, kind: t.Observer, observing: true, enabled: true, avg: 0.01}, nil
}

// stubQuantizer is an affine fake-quantizer with a straight-through
// gradient and a min-max or moving-average min-max observer (averaging
// constant 0.01, PyTorch's), per tensor or per channel. It stands in for
// package fakequant's quantizers.
type stubQuantizer struct {
	s                  fakequant.QScheme
	kind               string
	avg                float32
	min, max           []float32
	observing, enabled bool
}

func (q *stubQuantizer) String() string       { return q.s.String() + " " + q.kind }
func (q *stubQuantizer) SetObserving(on bool) { q.observing = on }
func (q *stubQuantizer) SetEnabled(on bool)   { q.enabled = on }

func (q *stubQuantizer) QParams() (fakequant.QParams, error) {
	if q.min == nil {
		return fakequant.QParams{}, fakequant.ErrNotObserved
	}
	return fakequant.QParamsFromRange(q.s, q.min, q.max)
}

func (q *stubQuantizer) observe(x []float32, outer, c, inner int) {
	lo, hi := make([]float32, c), make([]float32, c)
	for j := range lo {
		lo[j], hi[j] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	for o := 0; o < outer; o++ {
		for j := 0; j < c; j++ {
			for _, v := range x[(o*c+j)*inner : (o*c+j+1)*inner] {
				if v != v || math.IsInf(float64(v), 0) {
					continue
				}
				lo[j] = min(lo[j], v)
				hi[j] = max(hi[j], v)
			}
		}
	}
	for j := range lo {
		if lo[j] > hi[j] {
			return // no finite value: keep the old range
		}
	}
	if q.min == nil || len(q.min) != c {
		q.min, q.max = lo, hi
		return
	}
	for j := range lo {
		if q.kind == "ema" {
			q.min[j] += q.avg * (lo[j] - q.min[j])
			q.max[j] += q.avg * (hi[j] - q.max[j])
		} else {
			q.min[j] = min(q.min[j], lo[j])
			q.max[j] = max(q.max[j], hi[j])
		}
	}
}

func (q *stubQuantizer) Apply(_ fakequant.Binder, x *G.Node) (*G.Node, error) {
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("nn: fake-quant needs float32, got %v", x.Dtype())
	}
	shape := x.Shape().Clone()
	outer, c, inner := shape.TotalSize(), 1, 1
	if q.s.Granularity == fakequant.PerChannel {
		if q.s.Axis >= len(shape) {
			return nil, fmt.Errorf("nn: per-channel axis %d for shape %v", q.s.Axis, shape)
		}
		outer, c, inner = split(shape, q.s.Axis)
	}
	mask := make([]bool, shape.TotalSize())
	op := &fnOp{name: "fakequant", dt: tensor.Float32, outShape: shape, diff: []bool{true}}
	op.fwd = func(o *tensor.Dense, v []*tensor.Dense) error {
		xs, ys := data[float32](v[0]), data[float32](o)
		if q.observing {
			q.observe(xs, outer, c, inner)
		}
		if !q.enabled || q.min == nil {
			copy(ys, xs)
			for i := range mask {
				mask[i] = true
			}
			return nil
		}
		p, err := q.QParams()
		if err != nil {
			return err
		}
		qmin, qmax := q.s.QRange()
		for b := 0; b < outer; b++ {
			for j := 0; j < c; j++ {
				s, z := p.Scale[j], float32(p.ZeroPoint[j])
				inv := 1 / s
				for i := (b*c + j) * inner; i < (b*c+j+1)*inner; i++ {
					r := z + float32(math.RoundToEven(float64(xs[i]*inv)))
					mask[i] = r >= float32(qmin) && r <= float32(qmax)
					r = min(max(r, float32(qmin)), float32(qmax))
					ys[i] = (r - z) * s
				}
			}
		}
		return nil
	}
	op.sym = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		ste := &fnOp{name: "fakequant.ste", dt: tensor.Float32, outShape: shape}
		ste.fwd = func(o *tensor.Dense, v []*tensor.Dense) error {
			g, d := data[float32](v[0]), data[float32](o)
			for i := range d {
				d[i] = 0
				if mask[i] {
					d[i] = g[i]
				}
			}
			return nil
		}
		n, err := apply(ste, grad)
		return G.Nodes{n}, err
	}
	return apply(op, x)
}

func (q *stubQuantizer) MarshalState() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("stubq1")
	binary.Write(&buf, binary.LittleEndian, uint32(len(q.min)))
	binary.Write(&buf, binary.LittleEndian, q.min)
	binary.Write(&buf, binary.LittleEndian, q.max)
	return buf.Bytes(), nil
}

func (q *stubQuantizer) UnmarshalState(b []byte) error {
	if len(b) < 10 || string(b[:6]) != "stubq1" {
		return errors.New("nn: quantizer state: bad header")
	}
	n := int(binary.LittleEndian.Uint32(b[6:10]))
	if len(b) != 10+8*n {
		return fmt.Errorf("nn: quantizer state: %d bytes for %d channels", len(b), n)
	}
	if n == 0 {
		q.min, q.max = nil, nil
		return nil
	}
	q.min, q.max = make([]float32, n), make([]float32, n)
	for i := 0; i < n; i++ {
		q.min[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[10+4*i:]))
		q.max[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[10+4*n+4*i:]))
	}
	return nil
}
