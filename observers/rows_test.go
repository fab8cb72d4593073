package observers

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// plainObserver hides ObserveRows, so that a quantizer observes first and
// fake-quantizes after.
type plainObserver struct{ fakequant.Observer }

// rowsGraph is loss = Σ q(x) with the gradient wrt x (the quantizer's mask).
type rowsGraph struct {
	x, y, dx *G.Node
	m        G.VM
}

func newRowsGraph(t *testing.T, q fakequant.Quantizer, shape []int) *rowsGraph {
	t.Helper()
	g := G.NewGraph()
	r := &rowsGraph{x: G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName("x"), G.WithInit(G.Zeroes()))}
	var err error
	if r.y, err = q.Apply(nil, r.x); err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(G.Must(G.Sum(r.y)), r.x)
	if err != nil {
		t.Fatal(err)
	}
	r.dx = grads[0]
	r.m = G.NewTapeMachine(g)
	t.Cleanup(func() { r.m.Close() })
	return r
}

func (r *rowsGraph) run(x []float32) error {
	copy(r.x.Value().Data().([]float32), x)
	r.m.Reset()
	return r.m.RunAll()
}

// TestObserveRowsMatchesObserve runs a weight quantizer over the per-channel
// observers twice, observing a row at a time (RowObserver) and the whole
// batch first: outputs, masks, ranges and non-finite counts must agree to
// the bit, on batches with non-finite values, an all-NaN channel and an
// all-NaN batch (an error that changes nothing), with rows split between
// the cores where the weight is large.
func TestObserveRowsMatchesObserve(t *testing.T) {
	mk := map[string]func() (fakequant.Observer, error){
		"minmax": func() (fakequant.Observer, error) { return NewPerChannelMinMax(perChannel(i8sym, 0)) },
		"ema":    func() (fakequant.Observer, error) { return NewPerChannelMovingAverageMinMax(perChannel(u8, 0), 0.1) },
	}
	for name, newObs := range mk {
		for _, shape := range [][]int{{3, 17}, {7, 3, 5, 5}, {500, 800}} {
			t.Run(name, func(t *testing.T) {
				var gs [2]*rowsGraph
				var obs [2]fakequant.Observer
				for i := range gs {
					o, err := newObs()
					if err != nil {
						t.Fatal(err)
					}
					obs[i] = o
					if i == 1 {
						o = plainObserver{o}
					}
					q, err := fakequant.NewAffine(o)
					if err != nil {
						t.Fatal(err)
					}
					gs[i] = newRowsGraph(t, q, shape)
				}
				if _, ok := obs[0].(fakequant.RowObserver); !ok {
					t.Fatalf("%T is not a RowObserver", obs[0])
				}
				n, rows := 1, shape[0]
				for _, d := range shape {
					n *= d
				}
				rng := rand.New(rand.NewPCG(uint64(n), 3))
				nan := float32(math.NaN())
				for b := range 6 {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(rng.NormFloat64()) * float32(b+1) / 3
					}
					switch b {
					case 3: // a few non-finite values, and a channel with none finite
						x[1], x[n/2] = nan, float32(math.Inf(1))
						for i := range n / rows {
							x[(rows-1)*(n/rows)+i] = nan
						}
					case 4: // nothing finite: an error, the ranges untouched
						for i := range x {
							x[i] = nan
						}
					}
					var errs [2]error
					for i := range gs {
						errs[i] = gs[i].run(x)
					}
					if (errs[0] == nil) != (errs[1] == nil) || (b == 4) != (errs[0] != nil) {
						t.Fatalf("%v batch %d: errors %v and %v", shape, b, errs[0], errs[1])
					}
					if errs[0] != nil {
						// The quantizers' names differ (plainobserver); the observers' errors may not.
						_, e0, _ := strings.Cut(errs[0].Error(), "Do(): ")
						_, e1, _ := strings.Cut(errs[1].Error(), "Do(): ")
						if e0 == "" || e0 != e1 {
							t.Fatalf("batch %d: errors differ:\n%v\n%v", b, errs[0], errs[1])
						}
					} else {
						for _, n := range []func(*rowsGraph) *G.Node{
							func(r *rowsGraph) *G.Node { return r.y },
							func(r *rowsGraph) *G.Node { return r.dx },
						} {
							a, c := n(gs[0]).Value().Data().([]float32), n(gs[1]).Value().Data().([]float32)
							for i := range a {
								if math.Float32bits(a[i]) != math.Float32bits(c[i]) {
									t.Fatalf("%v batch %d: %v[%d] = %g by rows, %g by Observe", shape, b, n(gs[0]), i, a[i], c[i])
								}
							}
						}
					}
					mn0, mx0, err0 := obs[0].Range()
					mn1, mx1, err1 := obs[1].Range()
					if err0 != nil || err1 != nil {
						t.Fatal(err0, err1)
					}
					for c := range mn0 {
						if mn0[c] != mn1[c] || mx0[c] != mx1[c] {
							t.Fatalf("%v batch %d: channel %d range [%g, %g] by rows, [%g, %g] by Observe", shape, b, c, mn0[c], mx0[c], mn1[c], mx1[c])
						}
					}
					if obs[0].NonFinite() != obs[1].NonFinite() {
						t.Fatalf("batch %d: non-finite %d by rows, %d by Observe", b, obs[0].NonFinite(), obs[1].NonFinite())
					}
				}
			})
		}
	}
}
