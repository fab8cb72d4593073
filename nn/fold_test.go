package nn

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/internal/cpufeat"
)

// foldModel is a ConvBn with ReLU, a residual block (ConvBn ReLU, ConvBn,
// sum with ReLU), a ConvBn with ReLU6, and two Linear layers (the first
// with ReLU), prepared with spec: every kind of op an activation quantizer
// folds into.
func foldModel(t *testing.T, spec string) Module {
	t.Helper()
	rng := rand.New(rand.NewSource(11))
	a := NewConvBn("a", 2, 6, 3, ConvOpts{Padding: 1}, rng)
	a.Conv.ReLU = true
	b1 := NewConvBn("b1", 6, 6, 3, ConvOpts{Padding: 1}, rng)
	b1.Conv.ReLU = true
	b2 := NewConvBn("b2", 6, 6, 3, ConvOpts{Padding: 1}, rng)
	r := NewResidual("r", NewSequential("rb", b1, b2), nil)
	r.Sum.ReLU = true
	c := NewConvBn("c", 6, 5, 3, ConvOpts{Padding: 1, Stride: 2}, rng)
	c.Conv.ReLU6 = true
	fc1 := NewLinear("fc1", 5*8*8, 16, true, rng)
	fc1.ReLU = true
	m, err := testPrepare(NewSequential("fold", a, r, c, &Flatten{"f"}, fc1, NewLinear("fc2", 16, 3, true, rng)), spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// lenetFoldModel is LeNet-shaped (convolutions without activation, each
// followed by a max pool) when shared is false; with shared, the first
// convolution's quantized output feeds two max pools (Branches), so its
// quantizer must stay unfolded.
func lenetFoldModel(t *testing.T, spec string, shared bool) Module {
	t.Helper()
	rng := rand.New(rand.NewSource(13))
	c1 := NewConv2d("c1", 2, 4, 3, ConvOpts{}, rng)
	var p1 Module = &MaxPool2d{LayerName: "p1", Kernel: 2}
	c2in := 4
	if shared {
		p1 = NewBranches("br", &MaxPool2d{LayerName: "p1a", Kernel: 2}, &MaxPool2d{LayerName: "p1b", Kernel: 3, Stride: 2, Padding: 1})
		c2in = 8
	}
	c2 := NewConv2d("c2", c2in, 6, 3, ConvOpts{}, rng)
	fc1 := NewLinear("fc1", 6*2*2, 8, true, rng)
	fc1.ReLU = true
	m, err := testPrepare(NewSequential("lenetfold", c1, p1, c2, &MaxPool2d{LayerName: "p2", Kernel: 2}, &Flatten{"f"}, fc1, NewLinear("fc2", 8, 3, true, rng)), spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFoldedQuantizerSameBits: a training graph whose activation quantizers
// fold into their batch norms (the observer fed from the batch norm's
// output range, the straight-through mask inside its backward) gives the
// same losses, gradients, weights after SGD and quantizer parameters as the
// graph with separate fake-quant ops, bit for bit: with range observers
// (ema, minmax), with an observer that needs the values (histogram), with
// the quantizers disabled, with observation off and with frozen batch
// norms. A residual block's last batch norm runs its quantizer inside
// its op with the block's sum (kernels.BatchNormQuantAddAct): identity and
// projection shortcuts, ReLU and ReLU6 after the sum; a sum without
// activation keeps its ops.
func TestFoldedQuantizerSameBits(t *testing.T) {
	models := []struct {
		name           string
		build          func(t *testing.T, spec string) Module
		folded, inside int
		batch          int
	}{
		{"convbn-residual-linear", foldModel, 5, 1, 4},
		{"convbn-projection-gap", projModel, 6, 1, 4},
		// both residual blocks' batch norms on two workers (where there
		// are two cores), on 16×16 planes one at a time and on 8×8 ones
		// by blocks of planes
		{"handoff-batch32", handoffModel, 9, 2, 32},
		// 64-channel weights: their scaled quantizer's gradients split
		// between two workers (where there are two cores)
		{"wide", wideModel, 3, 1, 4},
		{"lenet", func(t *testing.T, spec string) Module { return lenetFoldModel(t, spec, false) }, 3, 0, 4},
		{"lenet-shared-output", func(t *testing.T, spec string) Module { return lenetFoldModel(t, spec, true) }, 2, 0, 4},
	}
	for _, md := range models {
		for _, spec := range []string{"w8a8", "w4a4,aobs=minmax", "w8a3,aobs=histogram"} {
			t.Run(md.name+"/"+spec, func(t *testing.T) {
				var nets [2]*Net
				var mods [2]Module
				for i := range nets {
					mods[i] = md.build(t, spec)
					n, err := Compile(mods[i], CompileConfig{Batch: md.batch, InputShape: [3]int{2, 16, 16}, Classes: 3, noFold: i == 1})
					if err != nil {
						t.Fatal(err)
					}
					defer n.Close()
					nets[i] = n
				}
				folded, inside := 0, 0
				for _, nd := range nets[0].train.g.AllNodes() {
					if op := nd.Op(); op != nil && strings.HasSuffix(op.String(), "(folded)]") {
						folded++
					} else if op != nil && op.String() == "kernels.BatchNormQuantAddAct" {
						inside++
					}
				}
				if folded != md.folded || inside != md.inside {
					t.Fatalf("%d folded quantizers and %d inside a batch norm in the training graph, want %d and %d", folded, inside, md.folded, md.inside)
				}
				sameSteps(t, nets, mods)
			})
		}
	}
}

// TestResidualSumSameBits: float training graphs whose residual blocks
// take their sum and activation into the last batch norm's op
// (kernels.BatchNormAddAct) give the same losses, gradients and weights
// after SGD, bit for bit, as with the Add as its own op: identity and
// projection shortcuts, ReLU, ReLU6 and no activation after the sum, batch
// norms frozen for the last steps.
func TestResidualSumSameBits(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(t *testing.T, spec string) Module
		sums  int
	}{{"fold", foldModel, 1}, {"proj", projModel, 2}} {
		t.Run(c.name, func(t *testing.T) {
			var nets [2]*Net
			var mods [2]Module
			for i := range nets {
				mods[i] = c.build(t, "fp32")
				n, err := Compile(mods[i], CompileConfig{Batch: 4, InputShape: [3]int{2, 16, 16}, Classes: 3, noFold: i == 1})
				if err != nil {
					t.Fatal(err)
				}
				defer n.Close()
				nets[i] = n
			}
			sums := 0
			for _, nd := range nets[0].train.g.AllNodes() {
				if op := nd.Op(); op != nil && op.String() == "kernels.BatchNormAddAct" {
					sums++
				}
			}
			if sums != c.sums {
				t.Fatalf("%d batch norms with the residual sum in the training graph, want %d", sums, c.sums)
			}
			sameSteps(t, nets, mods)
		})
	}
}

// sameSteps trains the folded nets[0] and the unfolded nets[1] side by side
// and requires the same bits.
// stepSame runs a training step of both nets on (x, y) and fails unless
// their losses (not NaN) and parameter gradients have the same bits; names
// tell the nets apart in the messages.
func stepSame(t *testing.T, nets [2]*Net, x []float32, y []int, step int, names [2]string) {
	t.Helper()
	var loss [2]float32
	for i, n := range nets {
		l, _, err := n.Step(x, y)
		if err != nil {
			t.Fatalf("step %d: %s: %v", step, names[i], err)
		}
		loss[i] = l
	}
	if math.Float32bits(loss[0]) != math.Float32bits(loss[1]) || loss[0] != loss[0] {
		t.Fatalf("step %d: loss %v %s, %v %s", step, loss[0], names[0], loss[1], names[1])
	}
	p0, p1 := nets[0].Params(), nets[1].Params()
	for k := range p0 {
		if p0[k].Grad == nil {
			continue
		}
		if !equalBits(data[float32](p0[k].Grad), data[float32](p1[k].Grad)) {
			t.Fatalf("step %d: gradient of %s differs (%s, %s)", step, p0[k].Name, names[0], names[1])
		}
	}
}

func sameSteps(t *testing.T, nets [2]*Net, mods [2]Module) {
	t.Helper()
	rng := rand.New(rand.NewSource(5))
	for step := range 8 {
		switch step {
		case 3: // quantizers off, observation on
			for i := range nets {
				for _, q := range mods[i].Quantizers() {
					q.Q.SetEnabled(false)
				}
			}
		case 4:
			for i := range nets {
				for _, q := range mods[i].Quantizers() {
					q.Q.SetEnabled(true)
				}
				nets[i].SetObserving(false)
			}
		case 6:
			for i := range nets {
				nets[i].FreezeBN(true)
			}
		}
		x, y := randomBatch(rng, nets[0].Batch(), 2*16*16, 3)
		if step == 2 || step == 5 {
			// a batch far wider than the averaged ranges: many
			// activations clip
			for i := range x {
				x[i] *= 6
			}
		}
		stepSame(t, nets, x, y, step, [2]string{"folded", "unfolded"})
		for i := range nets {
			sgd(nets[i], 0.05)
		}
		q0, q1 := mods[0].Quantizers(), mods[1].Quantizers()
		for k := range q0 {
			a, ea := q0[k].Q.QParams()
			b, eb := q1[k].Q.QParams()
			if (ea == nil) != (eb == nil) || ea == nil && !sameQParams(a, b) {
				t.Fatalf("step %d: %s: qparams %v (%v) folded, %v (%v) unfolded", step, q0[k].Name, a, ea, b, eb)
			}
		}
	}
}

// projModel is a stem ConvBn with ReLU, a residual block with a stride-2
// 1×1 projection shortcut and ReLU6 after the sum, and one without
// activation after the sum (MobileNetV2's), then the head: the shapes of
// block sumTail takes the sum into.
func projModel(t *testing.T, spec string) Module {
	t.Helper()
	rng := rand.New(rand.NewSource(17))
	a := NewConvBn("a", 2, 6, 3, ConvOpts{Padding: 1}, rng)
	a.Conv.ReLU = true
	b1 := NewConvBn("b1", 6, 8, 3, ConvOpts{Padding: 1, Stride: 2}, rng)
	b1.Conv.ReLU = true
	b2 := NewConvBn("b2", 8, 8, 3, ConvOpts{Padding: 1}, rng)
	proj := NewConvBn("proj", 6, 8, 1, ConvOpts{Stride: 2}, rng)
	r1 := NewResidual("r1", NewSequential("r1b", b1, b2), NewSequential("r1s", proj))
	r1.Sum.ReLU6 = true
	c1 := NewConvBn("c1", 8, 8, 1, ConvOpts{}, rng)
	c1.Conv.ReLU = true
	c2 := NewConvBn("c2", 8, 8, 1, ConvOpts{}, rng)
	r2 := NewResidual("r2", NewSequential("r2b", c1, c2), nil)
	m, err := testPrepare(NewSequential("proj", a, r1, r2, &GlobalAvgPool{LayerName: "gap"}, NewLinear("fc", 8, 3, true, rng)), spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConvBNEvalSameBits: evaluation graphs whose convolutions apply their
// batch norm per image (kernels.Conv2dBNEval), and in float models a
// residual block's sum too (kernels.Conv2dBNAddEval), predict the same
// logits, bit for bit, as with the batch norm and the sum as separate ops,
// and describe the same layers in the same order: FP32 (conv bias in the
// op) and QAT (the folded weight divided back per channel), after a few
// training steps moved the running statistics off their initial values.
func TestConvBNEvalSameBits(t *testing.T) {
	for _, c := range []struct {
		model         string
		build         func(t *testing.T, spec string) Module
		spec          string
		fused, summed int
	}{
		{"fold", foldModel, "fp32", 3, 1},
		{"fold", foldModel, "w8a8", 4, 0},
		{"proj", projModel, "fp32", 4, 2},
		{"proj", projModel, "w8a8", 6, 0},
	} {
		t.Run(c.model+"/"+c.spec, func(t *testing.T) {
			var nets [2]*Net
			for i := range nets {
				n, err := Compile(c.build(t, c.spec), CompileConfig{Batch: 4, InputShape: [3]int{2, 16, 16}, Classes: 3, noFold: i == 1})
				if err != nil {
					t.Fatal(err)
				}
				defer n.Close()
				nets[i] = n
			}
			fused, summed := 0, 0
			for _, nd := range nets[0].eval.g.AllNodes() {
				if op := nd.Op(); op != nil && op.String() == "kernels.Conv2dBNEval" {
					fused++
				} else if op != nil && op.String() == "kernels.Conv2dBNAddEval" {
					summed++
				}
			}
			if fused != c.fused || summed != c.summed {
				t.Fatalf("%d convolutions with their batch norm and %d with the sum too in the evaluation graph, want %d and %d", fused, summed, c.fused, c.summed)
			}
			l0, l1 := nets[0].Layers(), nets[1].Layers()
			if len(l0) != len(l1) {
				t.Fatalf("%d layers fused, %d unfused", len(l0), len(l1))
			}
			for i := range l0 {
				if l0[i].Name != l1[i].Name || l0[i].Kind != l1[i].Kind || !slices.Equal(l0[i].Inputs, l1[i].Inputs) {
					t.Fatalf("layer %d: %s %s from %v fused, %s %s from %v unfused", i, l0[i].Kind, l0[i].Name, l0[i].Inputs, l1[i].Kind, l1[i].Name, l1[i].Inputs)
				}
			}
			if nets[0].outRec != nets[1].outRec {
				t.Fatalf("output layer %d fused, %d unfused", nets[0].outRec, nets[1].outRec)
			}
			rng := rand.New(rand.NewSource(9))
			for range 3 {
				x, y := randomBatch(rng, nets[0].Batch(), 2*16*16, 3)
				for _, n := range nets {
					if _, _, err := n.Step(x, y); err != nil {
						t.Fatal(err)
					}
					sgd(n, 0.05)
				}
			}
			x, _ := randomBatch(rng, 4, 2*16*16, 3)
			var lg [2][]float32
			for i, n := range nets {
				lg[i] = make([]float32, 4*3)
				if err := n.Predict(x, 4, lg[i]); err != nil {
					t.Fatal(err)
				}
			}
			if !equalBits(lg[0], lg[1]) {
				t.Fatalf("logits %v fused, %v unfused", lg[0], lg[1])
			}
		})
	}
}

func sameQParams(a, b fakequant.QParams) bool {
	if len(a.Scale) != len(b.Scale) || !equalBits(a.Scale, b.Scale) {
		return false
	}
	for i := range a.ZeroPoint {
		if a.ZeroPoint[i] != b.ZeroPoint[i] {
			return false
		}
	}
	return true
}

// wideModel is a ConvBn with ReLU to 64 channels at stride 2 and a
// residual block of two 64-channel ConvBns (36,864 weights each), sum with
// ReLU, then a global pool and a Linear layer.
func wideModel(t *testing.T, spec string) Module {
	t.Helper()
	rng := rand.New(rand.NewSource(23))
	a := NewConvBn("a", 2, 64, 3, ConvOpts{Padding: 1, Stride: 2}, rng)
	a.Conv.ReLU = true
	b1 := NewConvBn("b1", 64, 64, 3, ConvOpts{Padding: 1}, rng)
	b1.Conv.ReLU = true
	r := NewResidual("r", NewSequential("rb", b1, NewConvBn("b2", 64, 64, 3, ConvOpts{Padding: 1}, rng)), nil)
	r.Sum.ReLU = true
	m, err := testPrepare(NewSequential("wide", a, r, &GlobalAvgPool{LayerName: "gap"}, NewLinear("fc", 64, 3, true, rng)), spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// handoffModel has every kind of reader a ReLU or ReLU6 batch norm's output
// meets in a CNN: a residual block's input (two readers), a 3×3 stride-1
// convolution of 16 channels at 16×16 and at 8×8 (Winograd: the batch norm
// leaves its output to it), a stride-2 one, a depthwise one and a 1×1 one
// (the batch norm writes its output); its residual blocks' sums have a
// ReLU (16×16) and a ReLU6 (8×8).
func handoffModel(t *testing.T, spec string) Module {
	t.Helper()
	rng := rand.New(rand.NewSource(19))
	cb := func(name string, in, out, k int, o ConvOpts, relu, relu6 bool) *ConvBn {
		c := NewConvBn(name, in, out, k, o, rng)
		c.Conv.ReLU, c.Conv.ReLU6 = relu, relu6
		return c
	}
	a := cb("a", 2, 16, 3, ConvOpts{Padding: 1}, true, false)
	r1 := NewResidual("r1", NewSequential("r1b", cb("b1", 16, 16, 3, ConvOpts{Padding: 1}, true, false), cb("b2", 16, 16, 3, ConvOpts{Padding: 1}, false, false)), nil)
	r1.Sum.ReLU = true
	d := cb("d", 16, 16, 3, ConvOpts{Padding: 1}, true, false)
	e := cb("e", 16, 16, 3, ConvOpts{Padding: 1, Stride: 2}, false, true)
	r2 := NewResidual("r2", NewSequential("r2b", cb("c1", 16, 16, 3, ConvOpts{Padding: 1}, false, true), cb("c2", 16, 16, 3, ConvOpts{Padding: 1}, false, false)), nil)
	r2.Sum.ReLU6 = true
	dw := cb("dw", 16, 16, 3, ConvOpts{Padding: 1, Groups: 16}, true, false)
	pw := cb("pw", 16, 16, 1, ConvOpts{}, true, false)
	m, err := testPrepare(NewSequential("handoff", a, r1, d, e, r2, dw, pw, &GlobalAvgPool{LayerName: "gap"}, NewLinear("fc", 16, 3, true, rng)), spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHandoffSameBits: a training graph whose batch norms leave their
// output, and their folded quantizer's, to the Winograd convolution that
// alone reads it (kernels.Handoff) gives the same losses, gradients,
// weights after SGD and quantizer parameters, bit for bit, as the graph of
// plain ops: float, and QAT with range observers (ema, minmax) and with
// one that needs the values (histogram), through sameSteps' quantizers
// off, observation off and frozen batch norms.
func TestHandoffSameBits(t *testing.T) {
	for _, spec := range []string{"fp32", "w8a8", "w4a4,aobs=minmax", "w8a3,aobs=histogram"} {
		t.Run(spec, func(t *testing.T) {
			var nets [2]*Net
			var mods [2]Module
			for i := range nets {
				mods[i] = handoffModel(t, spec)
				n, err := Compile(mods[i], CompileConfig{Batch: 4, InputShape: [3]int{2, 16, 16}, Classes: 3, noFold: i == 1})
				if err != nil {
					t.Fatal(err)
				}
				defer n.Close()
				nets[i] = n
			}
			handoffs := 0
			for _, nd := range nets[0].train.g.AllNodes() {
				if op := nd.Op(); op != nil && strings.HasSuffix(op.String(), "(handoff)") {
					handoffs++
				}
			}
			// b1's and c1's (the convolutions' Winograd path needs AVX2 or AVX-512)
			if want := map[bool]int{true: 2, false: 0}[cpufeat.Host.AVX2]; handoffs != want {
				t.Fatalf("%d batch norms leave their output to a convolution, want %d", handoffs, want)
			}
			sameSteps(t, nets, mods)
		})
	}
}
