package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestWorkspaceSameBits: convolutions of several Winograd geometries (F(4×4)
// rows and image groups, F(2×2), channels in and out differing) that share
// a Workspace give the bits of the same graph whose convolutions keep
// scratch of their own — outputs and every gradient, over two runs, on one
// worker and two.
func TestWorkspaceSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(101, 102))
	ins := []*tensor.Dense{randTensor(r, tensor.Float32, 3, 16, 14, 14), randTensor(r, tensor.Float32, 16, 16, 3, 3),
		randTensor(r, tensor.Float32, 32, 16, 3, 3), randTensor(r, tensor.Float32, 32, 32, 3, 3), randTensor(r, tensor.Float32, 16, 32, 3, 3)}
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		var outs [2][]*tensor.Dense
		for k, shared := range []bool{false, true} {
			build := func(n []*G.Node) (*G.Node, error) {
				p := ConvParams{Pad: [2]int{1, 1}}
				if shared {
					p.Workspace = NewWorkspace()
				}
				y := n[0]
				for i, w := range n[1:] {
					q := p
					if i == 2 {
						q.Pad = [2]int{2, 2} // another plane size: 16×16
					}
					var err error
					if y, err = Conv2d(y, w, nil, q); err != nil {
						return nil, err
					}
					if i == 2 {
						// back to 14×14 for the last one
						if y, err = Conv2d(y, n[4], nil, ConvParams{Workspace: p.Workspace}); err != nil {
							return nil, err
						}
						return y, nil
					}
				}
				return y, nil
			}
			outs[k] = append([]*tensor.Dense{run1(t, ins, build)}, grads(t, ins, build)...)
		}
		for i := range outs[0] {
			if !sameBits32(outs[1][i].Data().([]float32), outs[0][i].Data().([]float32)) {
				t.Fatalf("%s: output %d differs with a shared workspace", fmt.Sprint(procs, " procs"), i)
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}
