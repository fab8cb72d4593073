package kernels_test

import (
	"fmt"

	"github.com/qatgo/qatgo/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A depthwise 3×3 convolution (groups = channels) with padding 1, then the
// global average pool of the usual classifier head.
func ExampleConv2d_depthwise() {
	g := G.NewGraph()
	x := G.NodeFromAny(g, tensor.New(tensor.WithShape(1, 2, 2, 2), tensor.WithBacking([]float32{
		1, 2, 3, 4, // channel 0
		1, 1, 1, 1, // channel 1
	})), G.WithName("x"))
	w := G.NodeFromAny(g, tensor.New(tensor.WithShape(2, 1, 3, 3), tensor.WithBacking([]float32{
		0, 0, 0, 0, 1, 0, 0, 0, 0, // channel 0: identity
		1, 1, 1, 1, 1, 1, 1, 1, 1, // channel 1: box sum
	})), G.WithName("w"))
	y, err := kernels.Conv2d(x, w, nil, kernels.ConvParams{Pad: [2]int{1, 1}, Groups: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	pooled, err := kernels.GlobalAvgPool(y)
	if err != nil {
		fmt.Println(err)
		return
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Value().Data())
	fmt.Println(pooled.Shape(), pooled.Value().Data())
	// Output:
	// [1 2 3 4 4 4 4 4]
	// (1, 2) [2.5 4]
}
