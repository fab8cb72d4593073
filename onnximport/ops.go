package onnximport

import (
	"math"

	pb "github.com/qatgo/qatgo/internal/onnxpb"
	"github.com/qatgo/qatgo/nn"
)

// node converts one ONNX node (index i in the node list).
func (im *importer) node(i int, n *pb.NodeProto) error {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return nodeError(n, "operator domain %q is not supported", d)
	}
	switch n.GetOpType() {
	case "Constant":
		return im.constantNode(n)
	case "Identity":
		return im.alias(n, nil)
	case "Dropout":
		return im.dropout(n)
	case "Conv":
		return im.conv(n)
	case "Gemm":
		return im.gemm(n)
	case "MatMul":
		return im.matmul(n)
	case "BatchNormalization":
		return im.batchNorm(n)
	case "Relu":
		if _, err := im.attrs(n); err != nil {
			return err
		}
		return im.activation(n, false)
	case "Clip":
		return im.clip(n)
	case "Add":
		return im.addOp(n)
	case "Concat":
		if im.allConst(n) {
			return im.constConcat(n)
		}
		return im.concat(n)
	case "Shape", "Gather", "Unsqueeze":
		return im.shapeOp(n)
	case "Pad":
		return im.pad(n)
	case "MaxPool", "AveragePool":
		return im.pool(n)
	case "GlobalAveragePool":
		if _, err := im.attrs(n); err != nil {
			return err
		}
		x, err := im.input(n, 0)
		if err != nil {
			return err
		}
		if len(x.shape) != 3 {
			return nodeError(n, "input shape %v, want (C, H, W)", x.shape)
		}
		// nn's GlobalAvgPool returns (N, C): the (N, C, 1, 1) of ONNX
		// flattened, which the Flatten after it then leaves alone.
		return im.add(n, &nn.GlobalAvgPool{LayerName: im.name(n, "")}, []int{x.shape[0]}, x)
	case "Flatten":
		a, err := im.attrs(n, "axis")
		if err != nil {
			return err
		}
		if ax := a.int("axis", 1); ax != 1 {
			return nodeError(n, "attribute \"axis\" = %d; only 1 (keep the batch) is supported", ax)
		}
		return im.flatten(n)
	case "Reshape":
		return im.reshape(n)
	}
	return nodeError(n, "operator is not supported (qatgo imports Conv, Gemm, MatMul+Add, BatchNormalization, Relu, Clip, Add, Concat, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Identity, Dropout, Constant)")
}

func (im *importer) constantNode(n *pb.NodeProto) error {
	a, err := im.attrs(n, "value", "value_float", "value_floats", "value_int", "value_ints")
	if err != nil {
		return err
	}
	var c *constant
	switch {
	case a["value"] != nil:
		if c, err = decodeTensor(a["value"].GetT()); err != nil {
			return nodeError(n, "attribute \"value\": %v", err)
		}
	case a["value_float"] != nil:
		c = &constant{f: []float32{a.float("value_float", 0)}}
	case a["value_floats"] != nil:
		fs := a["value_floats"].GetFloats()
		c = &constant{dims: []int{len(fs)}, f: append([]float32(nil), fs...)}
	case a["value_int"] != nil:
		v := a.int("value_int", 0)
		c = &constant{i: []int64{v}, f: []float32{float32(v)}}
	case a["value_ints"] != nil:
		is := a.ints("value_ints")
		c = &constant{dims: []int{len(is)}, i: append([]int64(nil), is...)}
		for _, v := range is {
			c.f = append(c.f, float32(v))
		}
	default:
		return nodeError(n, "no value attribute")
	}
	for _, o := range n.GetOutput() {
		im.consts[o] = c
	}
	return nil
}

// alias makes n's output the same tensor as its input (Identity, Dropout at
// evaluation); a constant stays a constant.
func (im *importer) alias(n *pb.NodeProto, known []string) error {
	if _, err := im.attrs(n, known...); err != nil {
		return err
	}
	if len(n.GetInput()) == 0 || len(n.GetOutput()) == 0 {
		return nodeError(n, "want an input and an output")
	}
	if c, ok := im.consts[n.GetInput()[0]]; ok {
		im.consts[n.GetOutput()[0]] = c
		return nil
	}
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	return im.output(n, x.node, x.shape)
}

// dropout imports Dropout as an nn.Dropout (active in the training graph,
// the identity at evaluation, as in PyTorch).
func (im *importer) dropout(n *pb.NodeProto) error {
	a, err := im.attrs(n, "ratio", "seed")
	if err != nil {
		return err
	}
	ratio := a.float("ratio", 0.5)
	if len(n.GetInput()) > 1 && n.GetInput()[1] != "" {
		c, err := im.constInput(n, 1, false)
		if err != nil {
			return err
		}
		ratio = c.f[0]
	}
	if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
		c, err := im.constInput(n, 2, false)
		if err != nil {
			return err
		}
		if len(c.f) != 1 || c.f[0] != 0 {
			return nodeError(n, "input \"training_mode\" is true; export the model in evaluation mode")
		}
	}
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	if ratio == 0 {
		return im.output(n, x.node, x.shape)
	}
	d := nn.NewDropout(im.name(n, ""), float64(ratio), im.rng)
	return im.add(n, d, x.shape, x)
}

// geometry reads a conv or pool node's kernel, strides, pads and dilations
// (2-D, symmetric pads).
func geometry(n *pb.NodeProto, a attrs, kernel []int64) (k, s, p, d [2]int, err error) {
	if ap := a.str("auto_pad"); ap != "" && ap != "NOTSET" && ap != "VALID" {
		return k, s, p, d, nodeError(n, "attribute \"auto_pad\" = %q is not supported (export with explicit pads)", ap)
	}
	if ks := a.ints("kernel_shape"); ks != nil {
		if kernel != nil && (len(ks) != 2 || ks[0] != kernel[0] || ks[1] != kernel[1]) {
			return k, s, p, d, nodeError(n, "attribute \"kernel_shape\" = %v disagrees with the weight", ks)
		}
		kernel = ks
	}
	if len(kernel) != 2 {
		return k, s, p, d, nodeError(n, "attribute \"kernel_shape\" = %v, want 2-D", kernel)
	}
	k = [2]int{int(kernel[0]), int(kernel[1])}
	s, d = [2]int{1, 1}, [2]int{1, 1}
	if v := a.ints("strides"); v != nil {
		if len(v) != 2 || v[0] < 1 || v[1] < 1 {
			return k, s, p, d, nodeError(n, "attribute \"strides\" = %v", v)
		}
		s = [2]int{int(v[0]), int(v[1])}
	}
	if v := a.ints("dilations"); v != nil {
		if len(v) != 2 || v[0] < 1 || v[1] < 1 {
			return k, s, p, d, nodeError(n, "attribute \"dilations\" = %v", v)
		}
		d = [2]int{int(v[0]), int(v[1])}
	}
	if v := a.ints("pads"); v != nil {
		if len(v) != 4 || v[0] != v[2] || v[1] != v[3] || v[0] < 0 || v[1] < 0 {
			return k, s, p, d, nodeError(n, "attribute \"pads\" = %v; only symmetric pads (begin = end) are supported", v)
		}
		p = [2]int{int(v[0]), int(v[1])}
	}
	return k, s, p, d, nil
}

// outSize is a conv/pool output size (floor mode).
func outSize(in, k, s, p, d int) int { return (in+2*p-d*(k-1)-1)/s + 1 }

func (im *importer) conv(n *pb.NodeProto) error {
	a, err := im.attrs(n, "kernel_shape", "strides", "pads", "dilations", "group", "auto_pad")
	if err != nil {
		return err
	}
	x, pd, err := im.paddedInput(n)
	if err != nil {
		return err
	}
	w, err := im.constInput(n, 1, false)
	if err != nil {
		return err
	}
	bias, err := im.constInput(n, 2, true)
	if err != nil {
		return err
	}
	if len(w.dims) != 4 {
		return nodeError(n, "weight shape %v, want (O, I/groups, kh, kw)", w.dims)
	}
	k, s, p, d, err := geometry(n, a, []int64{int64(w.dims[2]), int64(w.dims[3])})
	if err != nil {
		return err
	}
	p[0], p[1] = p[0]+pd.h, p[1]+pd.w
	g := int(a.int("group", 1))
	if len(x.shape) != 3 {
		return nodeError(n, "input shape %v, want (C, H, W)", x.shape)
	}
	outC, inC := w.dims[0], w.dims[1]*g
	if g < 1 || x.shape[0] != inC || outC%g != 0 {
		return nodeError(n, "attribute \"group\" = %d with weight %v does not fit input channels %d", g, w.dims, x.shape[0])
	}
	name := im.name(n, n.GetInput()[1])
	c := &nn.Conv2d{LayerName: name, InC: inC, OutC: outC, Kernel: k, Stride: s, Padding: p, Dilation: d, Groups: g,
		Weight: param(name+".weight", true, true, w.f, w.dims...)}
	if bias != nil {
		if bias.size() != outC {
			return nodeError(n, "bias of %d values for %d output channels", bias.size(), outC)
		}
		c.Bias = param(name+".bias", true, false, bias.f, outC)
	}
	h, wd := outSize(x.shape[1], k[0], s[0], p[0], d[0]), outSize(x.shape[2], k[1], s[1], p[1], d[1])
	if h < 1 || wd < 1 {
		return nodeError(n, "output size %dx%d from input %v", h, wd, x.shape)
	}
	return im.add(n, c, []int{outC, h, wd}, x)
}

func (im *importer) gemm(n *pb.NodeProto) error {
	a, err := im.attrs(n, "alpha", "beta", "transA", "transB")
	if err != nil {
		return err
	}
	for _, at := range []struct {
		name string
		want float32
	}{{"alpha", 1}, {"beta", 1}} {
		if v := a.float(at.name, 1); v != at.want {
			return nodeError(n, "attribute %q = %g; only 1 is supported", at.name, v)
		}
	}
	if a.int("transA", 0) != 0 {
		return nodeError(n, "attribute \"transA\" = 1 is not supported")
	}
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	w, err := im.constInput(n, 1, false)
	if err != nil {
		return err
	}
	c, err := im.constInput(n, 2, true)
	if err != nil {
		return err
	}
	if len(w.dims) != 2 {
		return nodeError(n, "weight shape %v, want 2-D", w.dims)
	}
	wf, out, in := w.f, w.dims[0], w.dims[1]
	if a.int("transB", 0) == 0 {
		wf, out, in = transpose(w.f, w.dims[0], w.dims[1]), w.dims[1], w.dims[0]
	}
	return im.linear(n, x, wf, out, in, c)
}

func transpose(a []float32, rows, cols int) []float32 {
	t := make([]float32, len(a))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = a[r*cols+c]
		}
	}
	return t
}

// linear adds a Linear with weight (out, in) and an optional bias.
func (im *importer) linear(n *pb.NodeProto, x value, w []float32, out, in int, bias *constant) error {
	if len(x.shape) != 1 || x.shape[0] != in {
		return nodeError(n, "input shape %v, want (%d) (flatten before it)", x.shape, in)
	}
	name := im.name(n, n.GetInput()[1])
	l := &nn.Linear{LayerName: name, In: in, Out: out, Weight: param(name+".weight", true, true, w, out, in)}
	if bias != nil {
		if bias.size() != out {
			return nodeError(n, "bias of %d values for %d outputs", bias.size(), out)
		}
		l.Bias = param(name+".bias", true, false, bias.f, out)
	}
	return im.add(n, l, []int{out}, x)
}

// matmul imports x·W (W constant, (in, out)) as a Linear without bias; an
// Add of a constant right after it becomes the bias (see addOp).
func (im *importer) matmul(n *pb.NodeProto) error {
	if _, err := im.attrs(n); err != nil {
		return err
	}
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	w, err := im.constInput(n, 1, false)
	if err != nil {
		return err
	}
	if len(w.dims) != 2 {
		return nodeError(n, "weight shape %v, want 2-D (in, out)", w.dims)
	}
	return im.linear(n, x, transpose(w.f, w.dims[0], w.dims[1]), w.dims[1], w.dims[0], nil)
}

// soleProducer returns the module producing v when v's only consumer is the
// node being imported (so the module can absorb that node).
func (im *importer) soleProducer(n *pb.NodeProto, k int, v value) nn.Module {
	if v.node == Input || im.uses[n.GetInput()[k]] != 1 {
		return nil
	}
	// An alias (Identity) of the value would be a second consumer; check
	// that no other value maps to the same node.
	cnt := 0
	for _, o := range im.vals {
		if o.node == v.node {
			cnt++
		}
	}
	if cnt != 1 {
		return nil
	}
	return im.g.Nodes[v.node].Module
}

// absorb makes n part of the layer producing its k-th input x (which only n
// reads): n's output is now that layer's.
func (im *importer) absorb(n *pb.NodeProto, k int, x value) error {
	delete(im.vals, n.GetInput()[k])
	return im.output(n, x.node, x.shape)
}

func (im *importer) batchNorm(n *pb.NodeProto) error {
	a, err := im.attrs(n, "epsilon", "momentum", "training_mode", "spatial")
	if err != nil {
		return err
	}
	if a.int("training_mode", 0) != 0 {
		return nodeError(n, "attribute \"training_mode\" = 1; export the model in evaluation mode")
	}
	if a.int("spatial", 1) != 1 {
		return nodeError(n, "attribute \"spatial\" = 0 is not supported")
	}
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return nodeError(n, "input shape %v, want (C, H, W)", x.shape)
	}
	var cs [4]*constant
	for k := range cs {
		if cs[k], err = im.constInput(n, k+1, false); err != nil {
			return err
		}
		if cs[k].size() != x.shape[0] {
			return nodeError(n, "input %d has %d values for %d channels", k+1, cs[k].size(), x.shape[0])
		}
	}
	name := im.name(n, n.GetInput()[1])
	bn := nn.NewBatchNorm2d(name, x.shape[0])
	bn.Eps = float64(a.float("epsilon", 1e-5))
	// ONNX's momentum weighs the old running value (PyTorch's 1 − momentum).
	bn.Momentum = 1 - float64(a.float("momentum", 0.9))
	for k, p := range []*nn.Param{bn.Gamma, bn.Beta, bn.RunningMean, bn.RunningVar} {
		copy(p.Value.Data().([]float32), cs[k].f)
	}
	if c, ok := im.soleProducer(n, 0, x).(*nn.Conv2d); ok && !c.ReLU && !c.ReLU6 {
		// Conv → BatchNorm: folded for training and export, as torch.ao's
		// fuse_modules does.
		im.g.Nodes[x.node].Module = &nn.ConvBn{Conv: c, BN: bn}
		return im.absorb(n, 0, x)
	}
	return im.add(n, bn, x.shape, x)
}

// activation imports Relu (six false) or ReLU6, fused into the layer before
// it when that layer can carry it and nothing else reads its output.
func (im *importer) activation(n *pb.NodeProto, six bool) error {
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	var act nn.Module = &nn.ReLU{}
	if six {
		act = &nn.ReLU6{}
	}
	if prev := im.soleProducer(n, 0, x); prev != nil {
		if _, isAdd := prev.(*nn.Add); isAdd {
			a := prev.(*nn.Add)
			if !a.ReLU && !a.ReLU6 {
				a.ReLU, a.ReLU6 = !six, six
				return im.absorb(n, 0, x)
			}
		} else if nn.FuseActivation(prev, act) {
			return im.absorb(n, 0, x)
		}
	}
	name := im.name(n, "")
	if six {
		act = &nn.ReLU6{LayerName: name}
	} else {
		act = &nn.ReLU{LayerName: name}
	}
	return im.add(n, act, x.shape, x)
}

// clip imports Clip(0, 6) as ReLU6 and Clip(0, +inf) as ReLU.
func (im *importer) clip(n *pb.NodeProto) error {
	a, err := im.attrs(n, "min", "max")
	if err != nil {
		return err
	}
	lo, hi := a.float("min", float32(negInf)), a.float("max", float32(posInf))
	for k, dst := range []*float32{&lo, &hi} {
		c, err := im.constInput(n, k+1, true)
		if err != nil {
			return err
		}
		if c != nil {
			if len(c.f) != 1 {
				return nodeError(n, "input %d is not a scalar", k+1)
			}
			*dst = c.f[0]
		}
	}
	switch {
	case lo == 0 && hi == 6:
		return im.activation(n, true)
	case lo == 0 && isInf(hi, 1):
		return im.activation(n, false)
	}
	return nodeError(n, "Clip(%g, %g); only Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU) are supported", lo, hi)
}

func (im *importer) addOp(n *pb.NodeProto) error {
	if _, err := im.attrs(n); err != nil {
		return err
	}
	if len(n.GetInput()) != 2 {
		return nodeError(n, "%d inputs, want 2", len(n.GetInput()))
	}
	_, c0 := im.consts[n.GetInput()[0]]
	_, c1 := im.consts[n.GetInput()[1]]
	if c0 || c1 {
		// MatMul + Add of a constant: the Linear's bias.
		k := 0
		if c0 {
			k = 1
		}
		x, err := im.input(n, k)
		if err != nil {
			return err
		}
		b := im.consts[n.GetInput()[1-k]]
		if l, ok := im.soleProducer(n, k, x).(*nn.Linear); ok && l.Bias == nil && !l.ReLU && !l.ReLU6 && b.size() == l.Out {
			l.Bias = param(l.LayerName+".bias", true, false, b.f, l.Out)
			return im.absorb(n, k, x)
		}
		return nodeError(n, "adding a constant is only supported as the bias of a MatMul (a Linear layer)")
	}
	x1, err := im.input(n, 0)
	if err != nil {
		return err
	}
	x2, err := im.input(n, 1)
	if err != nil {
		return err
	}
	if !equal(x1.shape, x2.shape) {
		return nodeError(n, "input shapes %v and %v differ (broadcasting is not supported)", x1.shape, x2.shape)
	}
	return im.add(n, &nn.Add{LayerName: im.name(n, "")}, x1.shape, x1, x2)
}

// padded is a zero Pad of H and W waiting for the Conv or AveragePool that
// reads it (torch.onnx.export writes AvgPool2d's padding so).
type padded struct {
	x    value
	h, w int
}

// pad records a symmetric zero padding of H and W; only a Conv or an
// AveragePool (whose window then counts the zeros, count_include_pad) may
// read it.
func (im *importer) pad(n *pb.NodeProto) error {
	a, err := im.attrs(n, "mode", "pads", "value")
	if err != nil {
		return err
	}
	if m := a.str("mode"); m != "" && m != "constant" {
		return nodeError(n, "attribute \"mode\" = %q; only constant (zero) padding is supported", m)
	}
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	pads, val := a.ints("pads"), a.float("value", 0)
	if pads == nil {
		c, err := im.constInput(n, 1, false)
		if err != nil {
			return err
		}
		pads = c.i
		if c, err = im.constInput(n, 2, true); err != nil {
			return err
		}
		if c != nil {
			if len(c.f) != 1 {
				return nodeError(n, "constant value is not a scalar")
			}
			val = c.f[0]
		}
	}
	if val != 0 {
		return nodeError(n, "pad value %g; only zero padding is supported", val)
	}
	if len(pads) != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads[2] != pads[6] || pads[3] != pads[7] || pads[2] < 0 || pads[3] < 0 {
		return nodeError(n, "pads %v; only symmetric padding of H and W is supported", pads)
	}
	if len(x.shape) != 3 {
		return nodeError(n, "input shape %v, want (C, H, W)", x.shape)
	}
	if im.pads == nil {
		im.pads = map[string]padded{}
	}
	im.pads[n.GetOutput()[0]] = padded{x: x, h: int(pads[2]), w: int(pads[3])}
	return nil
}

// takePad returns the padding of n's input 0 when it comes from a Pad, and
// the Pad's input in place of the padded tensor.
func (im *importer) takePad(n *pb.NodeProto) (padded, bool) {
	if len(n.GetInput()) == 0 {
		return padded{}, false
	}
	p, ok := im.pads[n.GetInput()[0]]
	return p, ok
}

func ptrInt(v int64) *int64 { return &v }

// paddedInput returns n's input 0, looking through a zero Pad (whose
// padding it also returns).
func (im *importer) paddedInput(n *pb.NodeProto) (value, padded, error) {
	if p, ok := im.takePad(n); ok {
		return p.x, p, nil
	}
	x, err := im.input(n, 0)
	return x, padded{}, err
}

// allConst reports whether every input of n is a constant.
func (im *importer) allConst(n *pb.NodeProto) bool {
	for _, x := range n.GetInput() {
		if _, ok := im.consts[x]; !ok {
			return false
		}
	}
	return len(n.GetInput()) > 0
}

// shapeOp folds the shape arithmetic of x.view(x.size(0), -1) (Shape →
// Gather → Unsqueeze → Concat → Reshape) into constants: Shape gives the
// per-sample shape with the batch as 0, which Reshape reads as "copy that
// dimension".
func (im *importer) shapeOp(n *pb.NodeProto) error {
	var known []string
	switch n.GetOpType() {
	case "Gather":
		known = []string{"axis"}
	case "Unsqueeze":
		known = []string{"axes"}
	case "Shape":
		known = []string{"start", "end"}
	}
	a, err := im.attrs(n, known...)
	if err != nil {
		return err
	}
	if len(n.GetOutput()) != 1 {
		return nodeError(n, "want one output")
	}
	var c *constant
	switch n.GetOpType() {
	case "Shape":
		if a["start"] != nil || a["end"] != nil {
			return nodeError(n, "attributes \"start\"/\"end\" are not supported")
		}
		x, err := im.input(n, 0)
		if err != nil {
			return err
		}
		c = &constant{dims: []int{len(x.shape) + 1}, i: []int64{0}}
		for _, d := range x.shape {
			c.i = append(c.i, int64(d))
		}
	case "Gather":
		data, err := im.constInput(n, 0, false)
		if err != nil {
			return err
		}
		idx, err := im.constInput(n, 1, false)
		if err != nil {
			return err
		}
		if a.int("axis", 0) != 0 || len(data.dims) != 1 || len(idx.i) != idx.size() {
			return nodeError(n, "only a gather from a 1-D shape is supported")
		}
		c = &constant{dims: idx.dims}
		for _, k := range idx.i {
			if k < 0 {
				k += int64(len(data.i))
			}
			if k < 0 || int(k) >= len(data.i) {
				return nodeError(n, "index %d out of range", k)
			}
			c.i = append(c.i, data.i[k])
		}
	case "Unsqueeze":
		data, err := im.constInput(n, 0, false)
		if err != nil {
			return err
		}
		if len(data.dims) > 1 || data.i == nil {
			return nodeError(n, "only a scalar or 1-D shape is supported")
		}
		c = &constant{dims: []int{len(data.i)}, i: data.i}
	}
	c.f = make([]float32, len(c.i))
	for k, v := range c.i {
		c.f[k] = float32(v)
	}
	im.consts[n.GetOutput()[0]] = c
	return nil
}

// constConcat joins 1-D integer constants (a shape being assembled).
func (im *importer) constConcat(n *pb.NodeProto) error {
	if _, err := im.attrs(n, "axis"); err != nil {
		return err
	}
	c := &constant{}
	for _, x := range n.GetInput() {
		v := im.consts[x]
		if len(v.dims) > 1 || v.i == nil {
			return nodeError(n, "only 1-D integer constants (shapes) are concatenated")
		}
		c.i = append(c.i, v.i...)
	}
	c.dims = []int{len(c.i)}
	for _, v := range c.i {
		c.f = append(c.f, float32(v))
	}
	im.consts[n.GetOutput()[0]] = c
	return nil
}

func (im *importer) concat(n *pb.NodeProto) error {
	a, err := im.attrs(n, "axis")
	if err != nil {
		return err
	}
	var xs []value
	for k := range n.GetInput() {
		x, err := im.input(n, k)
		if err != nil {
			return err
		}
		xs = append(xs, x)
	}
	if len(xs) < 2 {
		return nodeError(n, "%d inputs, want at least 2", len(xs))
	}
	rank := len(xs[0].shape) + 1
	ax := a.int("axis", 1)
	if ax < 0 {
		ax += int64(rank)
	}
	if ax != 1 {
		return nodeError(n, "attribute \"axis\" = %d; only the channel axis 1 is supported", a.int("axis", 1))
	}
	shape := append([]int(nil), xs[0].shape...)
	for _, x := range xs[1:] {
		if len(x.shape) != len(shape) || !equal(x.shape[1:], shape[1:]) {
			return nodeError(n, "input shapes %v and %v do not concatenate along the channels", xs[0].shape, x.shape)
		}
		shape[0] += x.shape[0]
	}
	return im.add(n, &nn.Concat{LayerName: im.name(n, "")}, shape, xs...)
}

func (im *importer) pool(n *pb.NodeProto) error {
	avg := n.GetOpType() == "AveragePool"
	known := []string{"kernel_shape", "strides", "pads", "dilations", "ceil_mode", "auto_pad", "storage_order"}
	if avg {
		known = []string{"kernel_shape", "strides", "pads", "ceil_mode", "auto_pad", "count_include_pad"}
	}
	a, err := im.attrs(n, known...)
	if err != nil {
		return err
	}
	var x value
	var pd padded
	if avg {
		x, pd, err = im.paddedInput(n)
	} else {
		x, err = im.input(n, 0)
	}
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return nodeError(n, "input shape %v, want (C, H, W)", x.shape)
	}
	k, s, p, d, err := geometry(n, a, nil)
	if err != nil {
		return err
	}
	if pd.h > 0 || pd.w > 0 {
		if p != [2]int{} {
			return nodeError(n, "attribute \"pads\" on a padded input is not supported")
		}
		p = [2]int{pd.h, pd.w}
		a["count_include_pad"] = &pb.AttributeProto{I: ptrInt(1)} // the Pad's zeros are counted
	}
	switch {
	case k[0] != k[1]:
		return nodeError(n, "attribute \"kernel_shape\" = %v; only square windows are supported", k)
	case s[0] != s[1]:
		return nodeError(n, "attribute \"strides\" = %v; only equal strides are supported", s)
	case p[0] != p[1]:
		return nodeError(n, "attribute \"pads\" = %v; only equal pads are supported", p)
	case d != [2]int{1, 1}:
		return nodeError(n, "attribute \"dilations\" = %v is not supported", d)
	case a.int("ceil_mode", 0) != 0:
		return nodeError(n, "attribute \"ceil_mode\" = 1 is not supported")
	case a.int("storage_order", 0) != 0:
		return nodeError(n, "attribute \"storage_order\" = 1 is not supported")
	case avg && p[0] > 0 && a.int("count_include_pad", 0) == 0:
		return nodeError(n, "attribute \"count_include_pad\" = 0 with padding; qatgo averages over the padded window (count_include_pad=1)")
	}
	h, w := outSize(x.shape[1], k[0], s[0], p[0], 1), outSize(x.shape[2], k[1], s[1], p[1], 1)
	if h < 1 || w < 1 {
		return nodeError(n, "output size %dx%d from input %v", h, w, x.shape)
	}
	shape := []int{x.shape[0], h, w}
	name := im.name(n, "")
	if avg {
		return im.add(n, &nn.AvgPool2d{LayerName: name, Kernel: k[0], Stride: s[0], Padding: p[0]}, shape, x)
	}
	return im.add(n, &nn.MaxPool2d{LayerName: name, Kernel: k[0], Stride: s[0], Padding: p[0]}, shape, x)
}

// flatten imports a reshape of (N, ...) to (N, F).
func (im *importer) flatten(n *pb.NodeProto) error {
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	if len(x.shape) == 1 {
		return im.output(n, x.node, x.shape) // already (N, F)
	}
	f := 1
	for _, d := range x.shape {
		f *= d
	}
	return im.add(n, &nn.Flatten{LayerName: im.name(n, "")}, []int{f}, x)
}

func (im *importer) reshape(n *pb.NodeProto) error {
	if _, err := im.attrs(n, "allowzero"); err != nil {
		return err
	}
	x, err := im.input(n, 0)
	if err != nil {
		return err
	}
	sh, err := im.constInput(n, 1, false)
	if err != nil {
		return err
	}
	f := 1
	for _, d := range x.shape {
		f *= d
	}
	if len(sh.i) == 2 && sh.i[0] != -1 && (sh.i[1] == -1 || sh.i[1] == int64(f)) {
		return im.flatten(n)
	}
	return nodeError(n, "reshape of per-sample shape %v to %v; only a flatten to (N, %d) is supported", x.shape, sh.i, f)
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var (
	posInf = float32(math.Inf(1))
	negInf = float32(math.Inf(-1))
)
