package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestStemConv checks the direct one-channel 3×3 loops (Conv2d's forward
// and weight gradient where convState.stem) against float64 sums of the
// same products: widths with and without a partial last block of 16, one
// row, one column, 8 to 24 output channels, with and without bias, on one
// core and two.
func TestStemConv(t *testing.T) {
	if !stemCPU(hostFloatKernel) {
		t.Log("no stem assembly on this CPU: the GEMM path runs")
	}
	for _, c := range []struct{ n, o, h, w int }{{3, 16, 28, 28}, {2, 8, 5, 17}, {4, 24, 3, 16}, {1, 8, 1, 1}, {5, 16, 7, 33}, {2, 8, 9, 48}} {
		for _, bias := range []bool{false, true} {
			for _, procs := range []int{1, 2} {
				name := fmt.Sprintf("%+v bias %v, %d procs", c, bias, procs)
				prev := runtime.GOMAXPROCS(procs)
				r := rand.New(rand.NewPCG(81, uint64(c.w)))
				ins := []*tensor.Dense{randTensor(r, tensor.Float32, c.n, 1, c.h, c.w), randTensor(r, tensor.Float32, c.o, 1, 3, 3)}
				if bias {
					ins = append(ins, randTensor(r, tensor.Float32, c.o))
				}
				var y *G.Node
				build := func(n []*G.Node) (*G.Node, error) {
					var b *G.Node
					if bias {
						b = n[2]
					}
					var err error
					y, err = Conv2d(n[0], n[1], b, ConvParams{Pad: [2]int{1, 1}})
					return y, err
				}
				got := run1(t, ins, build).Data().([]float32)
				if st := y.Op().(*convOp).st; st.stem(true) != stemCPU(hostFloatKernel) {
					t.Fatalf("%s: stem path %v", name, st.stem(true))
				}
				gs := grads(t, ins, build)
				x, w := ins[0].Data().([]float32), ins[1].Data().([]float32)
				at := func(i, r, col int) float64 {
					if r < 0 || r >= c.h || col < 0 || col >= c.w {
						return 0
					}
					return float64(x[(i*c.h+r)*c.w+col])
				}
				dw := make([]float64, c.o*9)
				for i := 0; i < c.n; i++ {
					for o := 0; o < c.o; o++ {
						for r := 0; r < c.h; r++ {
							for col := 0; col < c.w; col++ {
								k := ((i*c.o+o)*c.h+r)*c.w + col
								want := 0.0
								if bias {
									want = float64(ins[2].Data().([]float32)[o])
								}
								dy := float64(float32(k%7-3) / 3) // grads' output gradient
								for t9 := range 9 {
									v := at(i, r+t9/3-1, col+t9%3-1)
									want += float64(w[o*9+t9]) * v
									dw[o*9+t9] += dy * v
								}
								if d := math.Abs(float64(got[k]) - want); d > 1e-5*(1+math.Abs(want)) {
									t.Fatalf("%s: y[%d] = %v, want %v", name, k, got[k], want)
								}
							}
						}
					}
				}
				gw := gs[1].Data().([]float32)
				tol := 2e-6 * float64(c.n*c.h*c.w)
				for k, want := range dw {
					if d := math.Abs(float64(gw[k]) - want); d > tol*(1+math.Abs(want)) {
						t.Fatalf("%s: dw[%d] = %v, want %v", name, k, gw[k], want)
					}
				}
				runtime.GOMAXPROCS(prev)
			}
		}
	}
}
