package nn_test

import (
	"fmt"
	"math/rand"

	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

// Build LeNet-5 with 8-bit weights and activations, calibrate its observers
// on a batch (post-training quantization), and predict.
func Example() {
	q, err := qconfig.Parse("w8a8")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := zoo.New("lenet5", q, rand.New(rand.NewSource(1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: 4, InputShape: [3]int{1, 28, 28}, Classes: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer net.Close()

	rng := rand.New(rand.NewSource(2))
	x := make([]float32, 4*28*28)
	for i := range x {
		x[i] = rng.Float32()
	}
	if err := net.Calibrate(x, 4); err != nil {
		fmt.Println(err)
		return
	}
	logits := make([]float32, 3*10)
	if err := net.Predict(x[:3*28*28], 3, logits); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("logits:", len(logits))
	for _, l := range net.Layers() {
		if l.WeightQ.Q != nil {
			p, _ := l.OutputQ.Q.QParams()
			fmt.Printf("%s %s in=%s out=%s zero point %d\n", l.Name, l.Kind, l.InputQ.Name, l.OutputQ.Name, p.ZeroPoint[0])
		}
	}
	// Output:
	// logits: 30
	// conv1 conv2d in=input out=conv1.act zero point 119
	// conv2 conv2d in=conv1.act out=conv2.act zero point 140
	// fc1 linear in=conv2.act out=fc1.act zero point 0
	// fc2 linear in=fc1.act out=fc2.act zero point 176
}
