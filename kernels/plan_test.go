package kernels

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// reluChain is loss = Σ relu⁴(x)·c over 2×3×4×4 values, with x's gradient:
// four ReLU gradients in the order they run, each read only by the next
// one, the last one x's; the one at readAt ≥ 0 is also read by G.Read.
func reluChain(t *testing.T, readAt int) (*G.ExprGraph, *G.Node, G.Nodes, []G.Value) {
	t.Helper()
	g := G.NewGraph()
	shape := tensor.Shape{2, 3, 4, 4}
	xv := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, shape.TotalSize())))
	cv := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, shape.TotalSize())))
	for i, d := 0, xv.Data().([]float32); i < len(d); i++ {
		d[i] = float32(math.Sin(float64(i)))
		cv.Data().([]float32)[i] = float32(i%7) - 3
	}
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(shape...), G.WithName("x"), G.WithValue(xv))
	c := G.NewTensor(g, tensor.Float32, 4, G.WithShape(shape...), G.WithName("c"), G.WithValue(cv))
	y := x
	for range 4 {
		var err error
		if y, err = ReLU(y); err != nil {
			t.Fatal(err)
		}
	}
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, c))))
	grads, err := G.Grad(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	// the ReLU gradients in the order they run: the last one is x's
	var chain G.Nodes
	for _, n := range g.AllNodes() {
		if _, ok := n.Op().(*clampGradOp); ok {
			chain = append(chain, n)
		}
	}
	if len(chain) != 4 {
		t.Fatalf("%d ReLU gradients", len(chain))
	}
	vals := make([]G.Value, len(chain))
	if readAt >= 0 {
		G.Read(chain[readAt], &vals[readAt])
	}
	return g, grads[0], chain, vals
}

// TestPlanBuffers checks PlanBuffers' intervals on a chain of ReLU
// gradients worked by hand: g4 lives while g3 is written, g3 while g2 is,
// g2 while g1 (x's gradient, kept) is: g2 takes g4's buffer, two in all; a
// G.Read of g3 keeps g3 out, and g2 still takes g4's: one. The values are
// those of the graph without a plan.
func TestPlanBuffers(t *testing.T) {
	for _, c := range []struct {
		readAt           int
		outputs, buffers int
	}{{-1, 3, 2}, {1, 2, 1}} {
		var want []float32
		for _, plan := range []bool{false, true} {
			g, dx, _, vals := reluChain(t, c.readAt)
			if plan {
				st, err := PlanBuffers(g, PlanOptions{Keep: G.Nodes{dx}, Poison: true})
				if err != nil {
					t.Fatal(err)
				}
				if st.Outputs != c.outputs || st.Buffers != c.buffers || st.Bytes != int64(c.outputs*96*4) || st.SharedBytes != int64(c.buffers*96*4) {
					t.Fatalf("read at %d: %+v, want %d outputs in %d buffers", c.readAt, st, c.outputs, c.buffers)
				}
			}
			m := G.NewTapeMachine(g, G.WithEngine(Engine()))
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			got := append([]float32(nil), dx.Value().Data().([]float32)...)
			if c.readAt >= 0 {
				if r := vals[c.readAt].Data().([]float32); r[0] != r[0] {
					t.Fatalf("read at %d: the read gradient was overwritten", c.readAt)
				}
			}
			m.Close()
			if !plan {
				want = got
				continue
			}
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("read at %d: dx[%d] = %v planned, %v not", c.readAt, i, got[i], want[i])
				}
			}
		}
	}
}
