package export_test

import (
	"fmt"
	"math/rand"

	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

// Export a LeNet-5 with 4-bit per-channel weights and 8-bit activations
// (calibrated on one random batch here; a real model comes from QAT) and
// list its integer layers.
func ExampleFromNet() {
	q, _ := qconfig.Parse("w4a8")
	m, _ := zoo.New("lenet5", q, rand.New(rand.NewSource(1)))
	net, err := nn.Compile(m, nn.CompileConfig{Batch: 4, InputShape: [3]int{1, 28, 28}, Classes: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer net.Close()
	x := make([]float32, 4*28*28)
	rng := rand.New(rand.NewSource(2))
	for i := range x {
		x[i] = rng.Float32()
	}
	if err := net.Calibrate(x, 4); err != nil {
		fmt.Println(err)
		return
	}
	im, err := export.FromNet(net)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range im.Layers {
		switch l := l.(type) {
		case *intmodel.Conv2d:
			fmt.Println(l.Name, "conv2d", l.WeightBits, "bits,", len(l.WeightScale), "scales")
		case *intmodel.Linear:
			fmt.Println(l.Name, "linear", l.WeightBits, "bits,", len(l.WeightScale), "scales")
		default:
			fmt.Println(l.LayerName(), l.Kind())
		}
	}
	// Output:
	// conv1 conv2d 4 bits, 20 scales
	// pool1 maxpool2d
	// conv2 conv2d 4 bits, 50 scales
	// pool2 maxpool2d
	// flatten flatten
	// fc1 linear 4 bits, 500 scales
	// fc2 linear 4 bits, 10 scales
}
