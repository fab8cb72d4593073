package onnximport

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/qatgo/qatgo/internal/onnxpb"
	"github.com/qatgo/qatgo/nn"
	"gorgonia.org/tensor"
)

var (
	// ErrNotONNX is wrapped by errors about files that are not ONNX models
	// (or are truncated).
	ErrNotONNX = errors.New("onnximport: not an ONNX model")
	// ErrUnsupported is wrapped by errors about operators, attributes or
	// graph shapes qatgo cannot import; the message names the node.
	ErrUnsupported = errors.New("onnximport: unsupported")
)

// Opset range accepted for the default ONNX domain.
const (
	MinOpset = 11
	MaxOpset = 17
)

// maxFile bounds the size of a model file read by ReadFile.
const maxFile = 1 << 30

// Model is an imported network: its graph module and the shapes read from
// the ONNX graph.
type Model struct {
	Graph *Graph
	// InputShape is one sample's (C, H, W); Classes the width of the output.
	InputShape [3]int
	Classes    int
	Opset      int64
	Producer   string // producer name and version, e.g. "pytorch 2.1.2"
}

// Options tune an import.
type Options struct {
	// Name is the graph module's name (default "model").
	Name string
	// Seed seeds the dropout layers' masks.
	Seed int64
}

// ReadFile imports the ONNX model at path; the module is named after the
// file unless opt.Name is set.
func ReadFile(path string, opt Options) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnximport: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("onnximport: reading %s: %w", path, err)
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrNotONNX, path, maxFile)
	}
	if opt.Name == "" {
		opt.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	m, err := Parse(b, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse imports a serialized ONNX ModelProto.
func Parse(b []byte, opt Options) (*Model, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrNotONNX)
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		return nil, fmt.Errorf("%w (or truncated): %v", ErrNotONNX, err)
	}
	if mp.IrVersion == nil || mp.GetGraph() == nil || len(mp.GetOpsetImport()) == 0 {
		return nil, fmt.Errorf("%w (or truncated): no IR version, graph or opset", ErrNotONNX)
	}
	opset := int64(-1)
	for _, o := range mp.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			opset = o.GetVersion()
		}
	}
	if opset < MinOpset || opset > MaxOpset {
		return nil, fmt.Errorf("%w: default-domain opset %d, want %d..%d", ErrUnsupported, opset, MinOpset, MaxOpset)
	}
	if opt.Name == "" {
		opt.Name = "model"
	}
	im := &importer{opset: opset, consts: map[string]*constant{}, vals: map[string]value{}, uses: map[string]int{},
		names: map[string]bool{}, rng: rand.New(rand.NewSource(opt.Seed)), g: &Graph{GraphName: opt.Name}}
	m, err := im.run(mp.GetGraph())
	if err != nil {
		return nil, err
	}
	m.Opset = opset
	m.Producer = strings.TrimSpace(mp.GetProducerName() + " " + mp.GetProducerVersion())
	return m, nil
}

// value is a graph tensor: the node producing it and its per-sample shape.
type value struct {
	node  int
	shape []int
}

type importer struct {
	opset  int64
	consts map[string]*constant
	vals   map[string]value
	uses   map[string]int
	names  map[string]bool
	rng    *rand.Rand
	g      *Graph
	pads   map[string]padded // Pad outputs, folded into the Conv or AveragePool reading them
}

func (im *importer) run(gp *pb.GraphProto) (*Model, error) {
	for _, t := range gp.GetInitializer() {
		c, err := decodeTensor(t)
		if err != nil {
			return nil, fmt.Errorf("onnximport: initializer: %w", err)
		}
		im.consts[t.GetName()] = c
	}
	var in *pb.ValueInfoProto
	for _, v := range gp.GetInput() {
		if _, ok := im.consts[v.GetName()]; ok {
			continue // older exporters list initializers as inputs too
		}
		if in != nil {
			return nil, fmt.Errorf("%w: graph has several inputs (%q, %q); want one image input", ErrUnsupported, in.GetName(), v.GetName())
		}
		in = v
	}
	if in == nil {
		return nil, fmt.Errorf("%w (or truncated): graph has no input", ErrNotONNX)
	}
	var shape [3]int
	dims := in.GetType().GetTensorType().GetShape().GetDim()
	if len(dims) != 4 {
		return nil, fmt.Errorf("%w: input %q has %d dimensions, want (N, C, H, W)", ErrUnsupported, in.GetName(), len(dims))
	}
	if et := in.GetType().GetTensorType().GetElemType(); et != int32(pb.TensorProto_FLOAT) {
		return nil, fmt.Errorf("%w: input %q has element type %v, want float", ErrUnsupported, in.GetName(), pb.TensorProto_DataType(et))
	}
	for i := range shape {
		d := dims[i+1].GetDimValue()
		if d <= 0 {
			return nil, fmt.Errorf("%w: input %q dimension %d is not a fixed size", ErrUnsupported, in.GetName(), i+1)
		}
		shape[i] = int(d)
	}
	im.vals[in.GetName()] = value{node: Input, shape: shape[:]}
	if len(gp.GetOutput()) != 1 {
		return nil, fmt.Errorf("%w: graph has %d outputs, want 1", ErrUnsupported, len(gp.GetOutput()))
	}
	outName := gp.GetOutput()[0].GetName()
	for _, n := range gp.GetNode() {
		for _, x := range n.GetInput() {
			im.uses[x]++
		}
	}
	im.uses[outName]++
	for i, n := range gp.GetNode() {
		if err := im.node(i, n); err != nil {
			return nil, err
		}
	}
	out, ok := im.vals[outName]
	if !ok {
		return nil, fmt.Errorf("%w (or truncated): graph output %q is produced by no node", ErrNotONNX, outName)
	}
	if len(out.shape) != 1 {
		return nil, fmt.Errorf("%w: graph output %q has per-sample shape %v, want (classes)", ErrUnsupported, outName, out.shape)
	}
	if out.node == Input {
		return nil, fmt.Errorf("%w: the graph computes nothing", ErrUnsupported)
	}
	im.g.Output = out.node
	return &Model{Graph: im.g, InputShape: shape, Classes: out.shape[0]}, nil
}

// nodeError is an error about one node.
func nodeError(n *pb.NodeProto, format string, args ...any) error {
	return fmt.Errorf("%w: node %q (%s): %s", ErrUnsupported, n.GetName(), n.GetOpType(), fmt.Sprintf(format, args...))
}

// attrs holds a node's attributes and checks that each one is known.
type attrs map[string]*pb.AttributeProto

func (im *importer) attrs(n *pb.NodeProto, known ...string) (attrs, error) {
	a := attrs{}
	for _, at := range n.GetAttribute() {
		ok := false
		for _, k := range known {
			ok = ok || at.GetName() == k
		}
		if !ok {
			return nil, nodeError(n, "attribute %q is not supported", at.GetName())
		}
		a[at.GetName()] = at
	}
	return a, nil
}

func (a attrs) int(name string, def int64) int64 {
	if at, ok := a[name]; ok {
		return at.GetI()
	}
	return def
}

func (a attrs) float(name string, def float32) float32 {
	if at, ok := a[name]; ok {
		return at.GetF()
	}
	return def
}

func (a attrs) ints(name string) []int64 {
	if at, ok := a[name]; ok {
		return at.GetInts()
	}
	return nil
}

func (a attrs) str(name string) string {
	if at, ok := a[name]; ok {
		return string(at.GetS())
	}
	return ""
}

// input returns the non-constant value named by n's k-th input.
func (im *importer) input(n *pb.NodeProto, k int) (value, error) {
	if k >= len(n.GetInput()) || n.GetInput()[k] == "" {
		return value{}, nodeError(n, "input %d is missing", k)
	}
	name := n.GetInput()[k]
	v, ok := im.vals[name]
	if !ok {
		if _, p := im.pads[name]; p {
			return value{}, nodeError(n, "input %d (%q) is a Pad output; only Conv and AveragePool absorb a zero Pad", k, name)
		}
		if _, c := im.consts[name]; c {
			return value{}, nodeError(n, "input %d (%q) is a constant; qatgo needs it computed from the image", k, name)
		}
		return value{}, fmt.Errorf("%w (or truncated): node %q (%s): input %q is produced by no earlier node", ErrNotONNX, n.GetName(), n.GetOpType(), name)
	}
	return v, nil
}

// constInput returns n's k-th input as a constant, or nil when absent and
// optional.
func (im *importer) constInput(n *pb.NodeProto, k int, optional bool) (*constant, error) {
	if k >= len(n.GetInput()) || n.GetInput()[k] == "" {
		if optional {
			return nil, nil
		}
		return nil, nodeError(n, "input %d is missing", k)
	}
	c, ok := im.consts[n.GetInput()[k]]
	if !ok {
		return nil, nodeError(n, "input %d (%q) must be a constant (initializer or Constant node)", k, n.GetInput()[k])
	}
	return c, nil
}

// output records n's first output as produced by node idx with shape.
func (im *importer) output(n *pb.NodeProto, idx int, shape []int) error {
	for k, o := range n.GetOutput() {
		if k > 0 && o != "" && im.uses[o] > 0 {
			return nodeError(n, "output %d (%q) is used; only the first output is supported", k, o)
		}
	}
	if len(n.GetOutput()) == 0 {
		return nodeError(n, "no output")
	}
	im.vals[n.GetOutput()[0]] = value{node: idx, shape: shape}
	return nil
}

// add appends layer m reading the given values and records n's output.
func (im *importer) add(n *pb.NodeProto, m nn.Module, shape []int, ins ...value) error {
	idx := len(im.g.Nodes)
	nd := Node{Module: m}
	for _, v := range ins {
		nd.Inputs = append(nd.Inputs, v.node)
	}
	im.g.Nodes = append(im.g.Nodes, nd)
	return im.output(n, idx, shape)
}

// name returns a unique layer name: from the weight's initializer name
// ("conv1.weight" → "conv1") when there is one, else from the node's scope
// ("/layer1/layer1.0/Add" → "layer1.0.add"), else from the op type.
func (im *importer) name(n *pb.NodeProto, weight string) string {
	var s string
	if w, ok := strings.CutSuffix(weight, ".weight"); ok && w != "" {
		s = w
	} else {
		parts := strings.FieldsFunc(n.GetName(), func(r rune) bool { return r == '/' })
		switch {
		case len(parts) >= 2 && weight != "":
			s = parts[len(parts)-2]
		case len(parts) >= 2:
			s = parts[len(parts)-2] + "." + strings.ToLower(parts[len(parts)-1])
		case len(parts) == 1:
			s = strings.ToLower(parts[0])
		default:
			s = strings.ToLower(n.GetOpType())
		}
	}
	s = sanitize(s)
	base := s
	for k := 2; im.names[s]; k++ {
		s = fmt.Sprintf("%s_%d", base, k)
	}
	im.names[s] = true
	return s
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "layer"
	}
	return b.String()
}

// param returns a float32 parameter holding data.
func param(name string, trainable, decay bool, data []float32, shape ...int) *nn.Param {
	p := &nn.Param{Name: name, Trainable: trainable, Decay: decay, LRScale: 1,
		Value: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), data...)))}
	if trainable {
		p.Grad = tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	}
	return p
}

func isInf(v float32, sign int) bool { return math.IsInf(float64(v), sign) }
