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

// recordingQuantizer is an InnerQuantizer that passes values through and
// records the range it was given.
type recordingQuantizer struct {
	mn, mx     float32
	ok, values bool
}

func (q *recordingQuantizer) Prepare(mn, mx float32, ok bool, n int, shape []int, values func() []float32) (c [6]float32, wlo, whi float32, on bool, err error) {
	q.mn, q.mx, q.ok = mn, mx, ok
	if !ok {
		values()
		q.values = true
	}
	return c, 0, 0, false, nil
}

// TestBatchNormQuantAddActRange: the quantizer inside BatchNormQuantAddAct
// gets the exact range of the batch norm's output (the same batch norm's
// written output's min and max) without asking for the values — from the
// channels' extremes, or with running statistics from a pass over x —
// and, disabled, the op computes BatchNormAddAct's bits: planes below and
// above 256 values, one and two workers, ReLU and ReLU6.
func TestBatchNormQuantAddActRange(t *testing.T) {
	for _, xs := range [][]int{{4, 16, 7, 7}, {64, 16, 7, 7}, {4, 16, 14, 14}, {16, 8, 20, 20}} {
		for _, frozen := range []bool{false, true} {
			for _, hi := range []float64{6, math.Inf(1)} {
				for _, procs := range []int{1, 2} {
					name := fmt.Sprintf("%v frozen %v hi %v, %d procs", xs, frozen, hi, procs)
					prev := runtime.GOMAXPROCS(procs)
					r := rand.New(rand.NewPCG(73, uint64(xs[0]*xs[2])))
					ch := xs[1]
					ins := []*tensor.Dense{randTensor(r, tensor.Float32, xs...), randTensor(r, tensor.Float32, ch), randTensor(r, tensor.Float32, ch), randTensor(r, tensor.Float32, xs...)}
					for i, v := range ins[1].Data().([]float32) {
						ins[1].Data().([]float32)[i] = 3 * v
					}
					var outs [3]*tensor.Dense
					var q recordingQuantizer
					for k := range 3 {
						st := newStats(tensor.Float32, ch)
						st.Frozen = frozen
						outs[k] = run1(t, ins, func(n []*G.Node) (*G.Node, error) {
							switch k {
							case 0:
								return BatchNorm(n[0], n[1], n[2], st, true)
							case 1:
								return BatchNormAddAct(n[0], n[1], n[2], n[3], st, true, hi)
							}
							return BatchNormQuantAddAct(n[0], n[1], n[2], nil, n[3], st, true, hi, &q, nil)
						}).Clone().(*tensor.Dense)
					}
					wmn, wmx, wok := minmax.FastScalar(outs[0].Data().([]float32))
					if !wok || !q.ok || q.values || q.mn != wmn || q.mx != wmx {
						t.Fatalf("%s: range %v %v ok %v (values asked for: %v), the output's %v %v ok %v", name, q.mn, q.mx, q.ok, q.values, wmn, wmx, wok)
					}
					if !sameBits32(outs[2].Data().([]float32), outs[1].Data().([]float32)) {
						t.Fatalf("%s: the disabled quantizer's sum differs from BatchNormAddAct's", name)
					}
					runtime.GOMAXPROCS(prev)
				}
			}
		}
	}
}
