package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/qatgo/qatgo/internal/minmax"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestHandoffSameBits: a batch norm + clamp whose output its convolution
// computes (BatchNormHandoff, Conv2dHandoff) gives the bits of the two ops
// that write and read it — the convolution's output, the gradients of x,
// γ, β, the scale and the weight, and the running statistics — on
// F(4×4) geometries (rows and image groups), an F(2×2) one and geometries
// no Winograd path takes (the Handoff is then not claimed), on one worker
// and two; and the batch norm's output written on request (Handoff.write,
// the other paths' fallback) is the plain op's.
func TestHandoffSameBits(t *testing.T) {
	type tc struct {
		xs     []int
		o      int
		stride int
		scaled bool
		hi     float64
	}
	cases := []tc{
		{xs: []int{4, 16, 32, 32}, o: 16, hi: math.Inf(1)},
		{xs: []int{5, 16, 8, 8}, o: 32, hi: 6, scaled: true},
		{xs: []int{3, 16, 10, 10}, o: 16, hi: math.Inf(1)},
		{xs: []int{3, 16, 14, 14}, o: 16, hi: 6},
		{xs: []int{2, 8, 8, 8}, o: 16, hi: math.Inf(1)},
		{xs: []int{3, 16, 16, 16}, o: 16, stride: 2, hi: math.Inf(1)},
	}
	for _, c := range cases {
		r := rand.New(rand.NewPCG(61, uint64(c.xs[2])))
		ch := c.xs[1]
		ins := []*tensor.Dense{randTensor(r, tensor.Float32, c.xs...), randTensor(r, tensor.Float32, ch), randTensor(r, tensor.Float32, ch),
			randTensor(r, tensor.Float32, c.o, ch, 3, 3)}
		for i, v := range ins[1].Data().([]float32) {
			ins[1].Data().([]float32)[i] = 3 * v // outputs beyond 6, and negative scales
		}
		// (a NaN or an infinity in x would make its channel's statistics,
		// and every output, NaN: TestPadRowsMap has them)
		x := ins[0].Data().([]float32)
		x[len(x)-1] = float32(math.Copysign(0, -1))
		if c.scaled {
			s := randTensor(r, tensor.Float32, ch)
			for i, v := range s.Data().([]float32) {
				s.Data().([]float32)[i] = 0.5 + float32(math.Abs(float64(v)))
			}
			ins = append(ins, s)
		}
		p := ConvParams{Stride: [2]int{max(c.stride, 1), max(c.stride, 1)}, Pad: [2]int{1, 1}}
		wantClaim := c.xs[1] >= winoMinChannels && c.stride <= 1 && winogradCPU(hostFloatKernel) && bnRecomputes(tensor.Float32)
		for _, procs := range []int{1, 2} {
			name := fmt.Sprintf("%v→%d stride %d hi %v scaled %v, %d procs", c.xs, c.o, c.stride, c.hi, c.scaled, procs)
			prev := runtime.GOMAXPROCS(procs)
			var outs [2][]*tensor.Dense
			var stats [2]*BNStats
			var bnOut [2]*G.Node
			var h *Handoff
			for k, handoff := range []bool{false, true} {
				st := newStats(tensor.Float32, ch)
				stats[k] = st
				build := func(n []*G.Node) (*G.Node, error) {
					var scale *G.Node
					if c.scaled {
						scale = n[4]
					}
					if !handoff {
						y, err := BatchNormAct(n[0], n[1], n[2], scale, st, true, c.hi)
						if err != nil {
							return nil, err
						}
						bnOut[k] = y
						return Conv2d(y, n[3], nil, p)
					}
					h = &Handoff{}
					y, err := BatchNormHandoff(n[0], n[1], n[2], scale, st, true, c.hi, nil, h)
					if err != nil {
						return nil, err
					}
					bnOut[k] = y
					poisonOutput(y)
					return Conv2dHandoff(y, n[3], nil, p, h)
				}
				outs[k] = append([]*tensor.Dense{run1(t, ins, build)}, grads(t, ins, build)...)
			}
			if h.Claimed() != wantClaim {
				t.Fatalf("%s: claimed %v, want %v", name, h.Claimed(), wantClaim)
			}
			for i := range outs[0] {
				if !sameBits(outs[1][i].Data().([]float32), outs[0][i].Data().([]float32)) {
					t.Fatalf("%s: output %d differs", name, i)
				}
			}
			if !sameBits(stats[1].Mean.Data().([]float32), stats[0].Mean.Data().([]float32)) || !sameBits(stats[1].Var.Data().([]float32), stats[0].Var.Data().([]float32)) {
				t.Fatalf("%s: running statistics differ", name)
			}
			if h.Claimed() {
				// the last graph's batch norm output, written on request
				h.writeOutput()
				if !sameBits(bnOut[1].Value().Data().([]float32), bnOut[0].Value().Data().([]float32)) {
					t.Fatalf("%s: the written output differs", name)
				}
			}
			runtime.GOMAXPROCS(prev)
		}
	}
}

// poisonOutput fills the tensor a batch norm op y will write its output into
// with NaN: an output left unwritten then shows (a new tensor may hold an
// earlier graph's values).
func poisonOutput(y *G.Node) {
	d := make([]float32, y.Shape().TotalSize())
	for i := range d {
		d[i] = float32(math.NaN())
	}
	y.Op().(*bnOp).out = tensor.New(tensor.WithShape(y.Shape().Clone()...), tensor.WithBacking(d))
}

// TestHandoffRelease: a released Handoff's batch norm writes its output,
// which another op then reads as written; and the constructors refuse a
// Handoff that does not link the two ops.
func TestHandoffRelease(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	ins := []*tensor.Dense{randTensor(r, tensor.Float32, 2, 16, 8, 8), randTensor(r, tensor.Float32, 16), randTensor(r, tensor.Float32, 16), randTensor(r, tensor.Float32, 16, 16, 3, 3)}
	p := ConvParams{Pad: [2]int{1, 1}}
	var outs [2]*tensor.Dense
	for k := range 2 {
		st := newStats(tensor.Float32, 16)
		outs[k] = run1(t, ins, func(n []*G.Node) (*G.Node, error) {
			if k == 0 {
				y, err := BatchNormAct(n[0], n[1], n[2], nil, st, true, 6)
				if err != nil {
					return nil, err
				}
				return Add(y, y)
			}
			h := &Handoff{}
			y, err := BatchNormHandoff(n[0], n[1], n[2], nil, st, true, 6, nil, h)
			if err != nil {
				return nil, err
			}
			poisonOutput(y)
			if _, err := Conv2dHandoff(y, n[3], nil, p, h); err != nil {
				return nil, err
			}
			h.Release()
			return Add(y, y)
		})
	}
	if !sameBits(outs[1].Data().([]float32), outs[0].Data().([]float32)) {
		t.Fatal("a released Handoff's output differs from BatchNormAct's")
	}

	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 16, 8, 8), G.WithName("x"))
	gm := G.NewTensor(g, tensor.Float32, 1, G.WithShape(16), G.WithName("gamma"))
	bt := G.NewTensor(g, tensor.Float32, 1, G.WithShape(16), G.WithName("beta"))
	w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(16, 16, 3, 3), G.WithName("w"))
	st := newStats(tensor.Float32, 16)
	if _, err := BatchNormHandoff(x, gm, bt, nil, st, true, 0, nil, &Handoff{}); err == nil {
		t.Error("BatchNormHandoff without a clamp: no error")
	}
	if _, err := BatchNormHandoff(x, gm, bt, nil, st, true, 6, nil, nil); err == nil {
		t.Error("BatchNormHandoff with a nil Handoff: no error")
	}
	if _, err := Conv2dHandoff(x, w, nil, p, &Handoff{}); err == nil {
		t.Error("Conv2dHandoff of a node that is not the Handoff's: no error")
	}
	h := &Handoff{}
	if _, err := BatchNormHandoff(x, gm, bt, nil, st, true, 6, nil, h); err != nil {
		t.Fatal(err)
	}
	if _, err := BatchNormHandoff(x, gm, bt, nil, st, true, 6, nil, h); err == nil {
		t.Error("a Handoff used twice: no error")
	}
}

// TestHandoffFoldRange: a claimed Handoff's batch norm with a fold leaves
// its output unwritten and still reports its exact range to the folded
// quantizer — from the channels' extremes taken in the sums pass, or with
// running statistics from a pass over x — as the min and max of the same
// batch norm's written output: planes below and above 256 values, one and
// two workers, ReLU and ReLU6, negative scales. (An empty range there made
// the quantizer read its input: the batch norm wrote its output after
// all, and the quantizer its own.)
func TestHandoffFoldRange(t *testing.T) {
	if !bnRecomputes(tensor.Float32) {
		t.Skip("no batch-norm loops that recompute the output")
	}
	for _, xs := range [][]int{{4, 16, 7, 7}, {64, 16, 7, 7}, {4, 16, 14, 14}, {16, 8, 20, 20}} {
		for _, frozen := range []bool{false, true} {
			for _, hi := range []float64{6, math.Inf(1)} {
				for _, procs := range []int{1, 2} {
					name := fmt.Sprintf("%v frozen %v hi %v, %d procs", xs, frozen, hi, procs)
					prev := runtime.GOMAXPROCS(procs)
					r := rand.New(rand.NewPCG(71, uint64(xs[0]*xs[2])))
					ch := xs[1]
					ins := []*tensor.Dense{randTensor(r, tensor.Float32, xs...), randTensor(r, tensor.Float32, ch), randTensor(r, tensor.Float32, ch)}
					for i, v := range ins[1].Data().([]float32) {
						ins[1].Data().([]float32)[i] = 3 * v
					}
					var f Fold
					var want *tensor.Dense
					for k := range 2 {
						st := newStats(tensor.Float32, ch)
						st.Frozen = frozen
						out := run1(t, ins, func(n []*G.Node) (*G.Node, error) {
							if k == 0 {
								return BatchNormAct(n[0], n[1], n[2], nil, st, true, hi)
							}
							h := &Handoff{}
							y, err := BatchNormHandoff(n[0], n[1], n[2], nil, st, true, hi, &f, h)
							h.claimed = true // as a Winograd convolution claims it
							return y, err
						})
						if k == 0 {
							want = out.Clone().(*tensor.Dense)
						}
					}
					wmn, wmx, wok := minmax.FastScalar(want.Data().([]float32))
					mn, mx, ok := f.OutputRange()
					if !wok || !ok || mn != wmn || mx != wmx {
						t.Fatalf("%s: range %v %v ok %v, the output's %v %v ok %v", name, mn, mx, ok, wmn, wmx, wok)
					}
					runtime.GOMAXPROCS(prev)
				}
			}
		}
	}
}
