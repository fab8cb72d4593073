package nn

import (
	"errors"
	"fmt"
	"github.com/qatgo/qatgo/internal/parallel"
	"math"
	"runtime"

	"github.com/qatgo/qatgo/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrInput is returned (wrapped) for batches of the wrong size or with bad labels.
var ErrInput = errors.New("nn: bad input")

// CompileConfig fixes the shapes of a Net's graphs.
type CompileConfig struct {
	Batch      int
	InputShape [3]int // C, H, W
	Classes    int
	// DType is tensor.Float32 (the default when nil) or tensor.Float64 for
	// gradient checks; the module's Params must have it.
	DType tensor.Dtype

	// KeepActivations makes the evaluation graph keep every layer's output
	// of its last run for LayerOutput (per-layer analysis; it costs a copy
	// per layer and run).
	KeepActivations bool

	// inputGrad makes the training graph compute the gradient of the loss
	// with respect to the input (gradient checks).
	inputGrad bool
	// noFold builds both graphs from the plain ops (see Builder.noFold;
	// tests).
	noFold bool
	// noPlan leaves every training-graph gradient in its op's own tensor
	// (kernels.PlanBuffers; tests); poisonPlan fills the shared buffers
	// with NaN before each op writes one (tests).
	noPlan, poisonPlan bool
}

// Net is a module compiled into a training graph and an evaluation graph
// that share its parameters. A Net is not safe for concurrent use.
type Net struct {
	m     Module
	cfg   CompileConfig
	dt    tensor.Dtype
	train *graphRun
	eval  *graphRun

	params    []*Param
	quants    []NamedQuantizer
	observing []bool
	bns       []*kernels.BNStats
	dropouts  []*dropoutMask
	records   []layerRecord
	outRec    int       // the record producing the logits (modelInput: the input)
	traceErr  error     // why the eval graph is not a graph of qatgo layers
	logits    []float64 // scratch for Step's accuracy
	xgrad     *tensor.Dense
	ie        *intExact // integer-exact evaluation (intexact.go)
}

// graphRun is one compiled graph with its machine and bound input tensors.
type graphRun struct {
	g      *G.ExprGraph
	vm     G.VM
	x      *tensor.Dense
	onehot *tensor.Dense
	logits G.Value
	loss   G.Value
	// the training graph's parameter gradients and the Param.Grad each is
	// copied into after a run
	grads   G.Nodes
	gradDst []*tensor.Dense
	// the training graph's shared gradient buffers (kernels.PlanBuffers)
	plan kernels.PlanStats
}

// Compile builds m's training and evaluation graphs for cfg.
func Compile(m Module, cfg CompileConfig) (*Net, error) {
	if m == nil {
		return nil, errors.New("nn: Compile: nil module")
	}
	if cfg.Batch < 1 || cfg.Classes < 1 || cfg.InputShape[0] < 1 || cfg.InputShape[1] < 1 || cfg.InputShape[2] < 1 {
		// Not %+v: a zero DType's String method dereferences nil.
		return nil, fmt.Errorf("nn: Compile: batch %d, input shape %v and classes %d must all be ≥ 1", cfg.Batch, cfg.InputShape, cfg.Classes)
	}
	dt := cfg.DType
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float32
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("nn: Compile: dtype %v, want float32 or float64", dt)
	}
	seen := map[string]bool{}
	for _, p := range m.Params() {
		if seen[p.Name] {
			return nil, fmt.Errorf("nn: Compile: duplicate parameter name %q", p.Name)
		}
		seen[p.Name] = true
		if p.Value.Dtype() != dt {
			return nil, fmt.Errorf("nn: Compile: parameter %s is %v, want %v", p.Name, p.Value.Dtype(), dt)
		}
	}
	n := &Net{m: m, cfg: cfg, dt: dt, quants: m.Quantizers(), ie: &intExact{on: true}}
	n.observing = make([]bool, len(n.quants))
	for i := range n.observing {
		n.observing[i] = true
	}
	learn := map[string]*Param{}
	var learnSeq []*Param
	var err error
	var tb, eb *Builder
	if n.train, tb, err = n.build(Train, learn, &learnSeq); err != nil {
		return nil, err
	}
	if n.eval, eb, err = n.build(Eval, learn, &learnSeq); err != nil {
		n.train.vm.Close()
		return nil, err
	}
	n.bns, n.dropouts, n.records = tb.bns, tb.dropouts, eb.records
	n.traceErr, n.outRec = eb.traceErr, eb.outRec
	n.params = append(m.Params(), learnSeq...)
	n.logits = make([]float64, cfg.Batch*cfg.Classes)
	return n, nil
}

func (n *Net) build(mode Mode, learn map[string]*Param, learnSeq *[]*Param) (*graphRun, *Builder, error) {
	cfg := n.cfg
	g := G.NewGraph()
	b := &Builder{g: g, mode: mode, dt: n.dt, nodes: map[*Param]*G.Node{}, learn: learn, learnSeq: learnSeq, ie: n.ie,
		trace: map[*G.Node]traced{}, ws: kernels.NewWorkspace()}
	r := &graphRun{g: g}
	shape := tensor.Shape{cfg.Batch, cfg.InputShape[0], cfg.InputShape[1], cfg.InputShape[2]}
	r.x = tensor.New(tensor.WithShape(shape...), tensor.Of(n.dt))
	x := G.NewTensor(g, n.dt, 4, G.WithShape(shape...), G.WithName("x"), G.WithValue(r.x))
	b.input, b.inputGrad, b.noFold = x, cfg.inputGrad, cfg.noFold
	b.keepActs = cfg.KeepActivations && mode == Eval
	b.trace[x] = traced{rec: modelInput}
	out, err := b.Build(n.m, x)
	if b.err != nil {
		err = b.err // the cause of any later shape error
	}
	if err != nil {
		return nil, nil, err
	}
	b.settleFolds()
	if s := out.Shape(); s.Dims() != 2 || s[0] != cfg.Batch || s[1] != cfg.Classes {
		return nil, nil, fmt.Errorf("nn: Compile: model output %v, want (%d, %d)", s, cfg.Batch, cfg.Classes)
	}
	if t, ok := b.trace[out]; ok {
		b.outRec = t.rec
	} else if b.traceErr == nil && mode == Eval {
		b.traceErr = fmt.Errorf("%w: the model's output comes from graph operations that are not qatgo layers", ErrUntraced)
	}
	r.logits = tensor.New(tensor.WithShape(cfg.Batch, cfg.Classes), tensor.Of(n.dt))
	G.Read(out, &r.logits)
	if mode == Train {
		r.onehot = tensor.New(tensor.WithShape(cfg.Batch, cfg.Classes), tensor.Of(n.dt))
		oh := G.NewTensor(g, n.dt, 2, G.WithShape(cfg.Batch, cfg.Classes), G.WithName("onehot"), G.WithValue(r.onehot))
		loss, err := crossEntropy(out, oh, cfg.Batch)
		if err != nil {
			return nil, nil, err
		}
		G.Read(loss, &r.loss)
		// Gradients of every trainable parameter used by the graph.
		var wrt G.Nodes
		var ps []*Param
		for _, p := range append(n.m.Params(), *learnSeq...) {
			if !p.Trainable {
				continue
			}
			node, ok := b.nodes[p]
			if !ok {
				return nil, nil, fmt.Errorf("nn: Compile: trainable parameter %s is not used by the model", p.Name)
			}
			wrt = append(wrt, node)
			ps = append(ps, p)
		}
		if cfg.inputGrad {
			wrt = append(wrt, x)
		}
		grads, err := G.Grad(loss, wrt...)
		if err != nil {
			return nil, nil, fmt.Errorf("nn: Compile: gradients: %w", err)
		}
		if cfg.inputGrad {
			n.xgrad = tensor.New(tensor.WithShape(shape...), tensor.Of(n.dt))
			v := G.Value(n.xgrad)
			G.Read(grads[len(grads)-1], &v)
			grads = grads[:len(grads)-1]
		}
		for i, gn := range grads {
			p := ps[i]
			if p.Grad == nil || p.Grad.Dtype() != n.dt {
				p.Grad = tensor.New(tensor.WithShape(p.Value.Shape().Clone()...), tensor.Of(n.dt))
			}
			r.grads, r.gradDst = append(r.grads, gn), append(r.gradDst, p.Grad)
		}
	}
	if mode == Train && !cfg.noPlan {
		// The input gradients share buffers by their lifetimes: a step's
		// backward then writes mostly into memory still in cache.
		if r.plan, err = kernels.PlanBuffers(g, kernels.PlanOptions{Keep: r.grads, Poison: cfg.poisonPlan}); err != nil {
			return nil, nil, fmt.Errorf("nn: Compile: %w", err)
		}
	}
	r.vm = G.NewTapeMachine(g, G.WithEngine(kernels.Engine()))
	return r, b, nil
}

// crossEntropy is the mean over the batch of −Σ onehot·log_softmax(logits).
func crossEntropy(logits, onehot *G.Node, batch int) (*G.Node, error) {
	logp, err := kernels.LogSoftmax(logits) // gorgonia's LogSoftMax is unstable across rows (see kernels.LogSoftmax)
	if err != nil {
		return nil, fmt.Errorf("nn: loss: %w", err)
	}
	prod, err := G.HadamardProd(logp, onehot)
	if err != nil {
		return nil, fmt.Errorf("nn: loss: %w", err)
	}
	s, err := G.Sum(prod)
	if err != nil {
		return nil, fmt.Errorf("nn: loss: %w", err)
	}
	var c *G.Node
	if logits.Dtype() == tensor.Float64 {
		c = G.NewConstant(-1 / float64(batch))
	} else {
		c = G.NewConstant(float32(-1 / float64(batch)))
	}
	loss, err := G.Mul(s, c)
	if err != nil {
		return nil, fmt.Errorf("nn: loss: %w", err)
	}
	return loss, nil
}

// Batch is the batch size the Net was compiled for.
func (n *Net) Batch() int { return n.cfg.Batch }

// Config is the configuration the Net was compiled with.
func (n *Net) Config() CompileConfig { return n.cfg }

// Module is the compiled module.
func (n *Net) Module() Module { return n.m }

// Params lists the persistent tensors: the module's, then learnable
// quantizer parameters.
func (n *Net) Params() []*Param { return n.params }

// Quantizers lists the model's quantizers.
func (n *Net) Quantizers() []NamedQuantizer { return n.quants }

// Layers describes the layers in the order the evaluation graph runs them
// (a topological order of the model's graph; LayerInfo.Inputs are the
// edges); weights and biases are copies folded with the current running
// statistics. Graph also checks that the model is made of qatgo layers.
func (n *Net) Layers() []LayerInfo {
	out := make([]LayerInfo, len(n.records))
	for i, r := range n.records {
		out[i] = r.info()
	}
	return out
}

// LayerOutput returns a copy of the output of layer name (as Layers names
// it) from the last evaluation-graph run (Predict, Calibrate), Batch
// samples in NCHW or N×F order: dequantized values for a quantized layer.
// The Net must be compiled with KeepActivations.
func (n *Net) LayerOutput(name string) ([]float32, error) {
	if !n.cfg.KeepActivations {
		return nil, errors.New("nn: LayerOutput needs a Net compiled with KeepActivations")
	}
	for _, r := range n.records {
		if r.l.describe().Name != name {
			continue
		}
		if r.val == nil || *r.val == nil {
			return nil, fmt.Errorf("nn: layer %q: no evaluation has run", name)
		}
		d, ok := (*r.val).(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: layer %q: output is %T", name, *r.val)
		}
		return toF32(d), nil
	}
	return nil, fmt.Errorf("nn: no layer %q", name)
}

// Graph returns Layers and the index of the layer whose output is the
// model's output, or an error wrapping ErrUntraced naming the first module
// that computes with graph operations other than qatgo's layers (such a
// model trains but has no quantized or integer form).
func (n *Net) Graph() (layers []LayerInfo, output int, err error) {
	if n.traceErr != nil {
		return nil, 0, n.traceErr
	}
	return n.Layers(), n.outRec, nil
}

// SetObserving turns range observation on or off for every quantizer during
// Step (Predict never observes, Calibrate always does).
func (n *Net) SetObserving(on bool) {
	for i := range n.observing {
		n.observing[i] = on
	}
}

// SetQuantizerObserving turns observation during Step on or off for the
// quantizer called name.
func (n *Net) SetQuantizerObserving(name string, on bool) error {
	for i, q := range n.quants {
		if q.Name == name {
			n.observing[i] = on
			return nil
		}
	}
	return fmt.Errorf("nn: no quantizer %q", name)
}

// FreezeBN makes every batch norm (in ConvBn and BatchNorm2d) use and keep
// its running statistics in the training graph too (PyTorch's
// freeze_bn_stats).
func (n *Net) FreezeBN(frozen bool) {
	for _, s := range n.bns {
		s.Frozen = frozen
	}
}

func (n *Net) setObserving(all bool, on bool) {
	for i, q := range n.quants {
		if all {
			q.Q.SetObserving(on)
		} else {
			q.Q.SetObserving(n.observing[i])
		}
	}
}

// load copies count samples into r.x; pad says how to fill the rest: with
// zeros or by repeating the samples.
func (n *Net) load(r *graphRun, x []float32, count int, repeat bool) error {
	per := n.cfg.InputShape[0] * n.cfg.InputShape[1] * n.cfg.InputShape[2]
	if count < 1 || count > n.cfg.Batch {
		return fmt.Errorf("%w: count %d not in 1..%d", ErrInput, count, n.cfg.Batch)
	}
	if len(x) != count*per {
		return fmt.Errorf("%w: %d values for %d samples of %d", ErrInput, len(x), count, per)
	}
	switch d := r.x.Data().(type) {
	case []float32:
		copy(d, x)
		for i := count * per; i < len(d); i++ {
			if repeat {
				d[i] = d[i%(count*per)]
			} else {
				d[i] = 0
			}
		}
	case []float64:
		for i := range d {
			switch {
			case i < count*per:
				d[i] = float64(x[i])
			case repeat:
				d[i] = d[i%(count*per)]
			default:
				d[i] = 0
			}
		}
	}
	return nil
}

func (r *graphRun) run() error {
	defer r.vm.Reset()
	if err := r.vm.RunAll(); err != nil {
		return fmt.Errorf("nn: run: %w", err)
	}
	return r.readGrads()
}

// readGrads copies the values of the gradient nodes into the parameters'
// Grad tensors, split over the cores (gorgonia's Read copied them one by one
// on one core: 3% of a LeNet-5 step on two).
func (r *graphRun) readGrads() error {
	for i, gn := range r.grads {
		dst := r.gradDst[i]
		v, ok := gn.Value().(*tensor.Dense)
		if !ok || v.RequiresIterator() || v.Dtype() != dst.Dtype() || v.Shape().TotalSize() != dst.Shape().TotalSize() {
			// a scalar, a view: what Read did
			if _, err := G.Copy(dst, gn.Value()); err != nil {
				return fmt.Errorf("nn: run: gradient %s: %w", gn.Name(), err)
			}
			continue
		}
		switch d := dst.Data().(type) {
		case []float32:
			copySplit(d, v.Data().([]float32))
		case []float64:
			copySplit(d, v.Data().([]float64))
		}
	}
	return nil
}

// copySplit is copy(dst, src) over the cores for large slices.
func copySplit[T float32 | float64](dst, src []T) {
	parallel.For(len(src), parallel.Chunks(len(src), 1<<16), 16, func(_, lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
}

// Step runs the training graph on a full batch: x holds Batch samples of
// C·H·W values, labels Batch class indices. It fills Param.Grad of every
// trainable parameter (overwritten, not accumulated), updates observers
// that are observing and the batch norms' running statistics (unless
// frozen), and returns the mean cross-entropy loss and the number of
// correct argmax predictions. It does not update the parameters.
func (n *Net) Step(x []float32, labels []int) (loss float32, correct int, err error) {
	b, k := n.cfg.Batch, n.cfg.Classes
	if len(labels) != b {
		return 0, 0, fmt.Errorf("%w: %d labels for a batch of %d", ErrInput, len(labels), b)
	}
	r := n.train
	if err := n.load(r, x, b, false); err != nil {
		return 0, 0, err
	}
	for i, l := range labels {
		if l < 0 || l >= k {
			return 0, 0, fmt.Errorf("%w: label %d of sample %d not in 0..%d", ErrInput, l, i, k-1)
		}
	}
	switch d := r.onehot.Data().(type) {
	case []float32:
		clear(d)
		for i, l := range labels {
			d[i*k+l] = 1
		}
	case []float64:
		clear(d)
		for i, l := range labels {
			d[i*k+l] = 1
		}
	}
	l64, err := n.step(true)
	loss = float32(l64)
	if err != nil {
		return 0, 0, err
	}
	lg := n.logitsF64(r)
	for i, l := range labels {
		if argmax(lg[i*k:(i+1)*k]) == l {
			correct++
		}
	}
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, correct, fmt.Errorf("nn: loss is %g", loss)
	}
	return loss, correct, nil
}

// step runs the training graph on the loaded batch and one-hot labels and
// returns the loss in full precision.
func (n *Net) step(refillDropout bool) (float64, error) {
	if refillDropout {
		for _, m := range n.dropouts {
			m.refill()
		}
	}
	n.setObserving(false, false)
	if err := n.train.run(); err != nil {
		return 0, err
	}
	switch v := n.train.loss.(type) {
	case *G.F32:
		return float64(*v), nil
	case *G.F64:
		return float64(*v), nil
	}
	return 0, fmt.Errorf("nn: loss is %T", n.train.loss)
}

func (n *Net) logitsF64(r *graphRun) []float64 {
	switch d := r.logits.(*tensor.Dense).Data().(type) {
	case []float32:
		for i, v := range d {
			n.logits[i] = float64(v)
		}
	case []float64:
		copy(n.logits, d)
	}
	return n.logits
}

func argmax(v []float64) int {
	best := 0
	for i, e := range v {
		if e > v[best] {
			best = i
		}
	}
	return best
}

// Predict runs the evaluation graph (running statistics, dropout off,
// observers frozen) on count ≤ Batch samples and writes count·Classes
// logits. Missing samples are zero-padded.
func (n *Net) Predict(x []float32, count int, logits []float32) error {
	if len(logits) < count*n.cfg.Classes {
		return fmt.Errorf("%w: logits has %d values, need %d", ErrInput, len(logits), count*n.cfg.Classes)
	}
	if err := n.forward(x, count, false); err != nil {
		return err
	}
	lg := n.logitsF64(n.eval)
	for i := 0; i < count*n.cfg.Classes; i++ {
		logits[i] = float32(lg[i])
	}
	return nil
}

// Calibrate runs the evaluation graph on count ≤ Batch samples with every
// observer observing (post-training quantization); no gradients, no
// batch-norm update. A partial batch is padded by repeating its samples, so
// that padding does not change the observed ranges.
func (n *Net) Calibrate(x []float32, count int) error {
	return n.forward(x, count, true)
}

func (n *Net) forward(x []float32, count int, observe bool) error {
	if err := n.load(n.eval, x, count, observe); err != nil {
		return err
	}
	n.setObserving(true, observe)
	defer n.setObserving(false, false)
	return n.eval.run()
}

// Close releases the graphs' machines. gorgonia sets a finalizer on each
// TapeMachine (a no-op without CUDA, and Close has run it), and Go never
// collects a reference cycle that holds a finalizer: the machine reaches
// the graph, whose ops reach the Net's state and so the machine again. So
// the finalizer is cleared here, or every closed Net stayed in memory with
// all its tensors (167 MB per resnet20 at batch 64: a sweep or autobits run
// of a hundred points ran the machine out of memory).
func (n *Net) Close() error {
	var err error
	for _, r := range []*graphRun{n.train, n.eval} {
		if r != nil && r.vm != nil {
			if e := r.vm.Close(); e != nil && err == nil {
				err = e
			}
			runtime.SetFinalizer(r.vm, nil)
		}
	}
	return err
}
