package sweep_test

import (
	"fmt"

	"github.com/qatgo/qatgo/sweep"
)

func ExampleNewPlan() {
	bits, _ := sweep.ParseBits("2-4,8")
	layers := []sweep.Layer{{Name: "conv1", Kind: sweep.Conv}, {Name: "fc1", Kind: sweep.FC}, {Name: "fc2", Kind: sweep.FC}}
	p, err := sweep.NewPlan(layers, sweep.Options{Groups: []string{"fc"}, Methods: []sweep.Method{sweep.Pow2, sweep.FP8E4M3},
		Bits: bits, Epochs: []int{0}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, pt := range p.Points {
		fmt.Println(pt.Kind, pt.Group, pt.Method, pt.Bits, len(pt.Assign), "layers")
	}
	// Output:
	// baseline  fp32 32 0 layers
	// group fc pow2 2 2 layers
	// group fc pow2 3 2 layers
	// group fc pow2 4 2 layers
	// group fc pow2 8 2 layers
	// group fc fp8-e4m3 8 2 layers
}
