package onnximport_test

import (
	"fmt"

	"github.com/qatgo/qatgo/onnximport"
	"github.com/qatgo/qatgo/qconfig"
)

// A LeNet-5 exported by torch.onnx.export becomes an nn model that
// qconfig.Prepare quantizes like a built-in one.
func ExampleReadFile() {
	m, err := onnximport.ReadFile("../testdata/torchref/lenet5.onnx", onnximport.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.InputShape, m.Classes, m.Opset)
	cfg, _ := qconfig.Parse("w8a8")
	pm, err := qconfig.Prepare(m.Graph, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	var names []string
	for _, q := range pm.Quantizers() {
		names = append(names, q.Name)
	}
	fmt.Println(names[:4])
	// Output:
	// [1 28 28] 10 13
	// [input conv1.weight conv1.act conv2.weight]
}
