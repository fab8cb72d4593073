package cgen

import (
	mrand "math/rand"
	"testing"

	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/internal/ctool"
	"github.com/qatgo/qatgo/internal/graphtest"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

// zooGraph builds a zoo model at spec (e.g. "w8a8") on a 1×16×16 input,
// calibrates it on a few batches of random images and exports it: untrained
// weights, real graph structure (bit-exactness does not need training).
func zooGraph(t testing.TB, name, spec string) *intmodel.Model {
	sp := zoo.Spec{InputShape: [3]int{1, 16, 16}, Classes: 10}
	q, err := qconfig.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := zoo.Default().New(name, sp, q, mrand.New(mrand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	const batch = 4
	net, err := nn.Compile(mod, nn.CompileConfig{Batch: batch, InputShape: sp.InputShape, Classes: sp.Classes})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	rng := mrand.New(mrand.NewSource(4))
	x := make([]float32, batch*16*16)
	for range 3 {
		for i := range x {
			x[i] = rng.Float32()
		}
		if err := net.Calibrate(x, batch); err != nil {
			t.Fatal(err)
		}
	}
	m, err := export.FromNet(net)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ResNet-20 and MobileNetV2 (residual adds, projection shortcuts,
// depthwise convolutions, ReLU6, global average pooling) at W8A8 and W4A8,
// and graphtest's graphs (its four fixed ones and random ones: grouped
// convolutions, long skips, concats with requantization, rescaling average
// pools), all in one program under the sanitizers: output codes
// byte-identical to intruntime.
func TestHostGraphModels(t *testing.T) {
	if why := ctool.MissingHost(); why != "" {
		t.Skip(why)
	}
	var models []*intmodel.Model
	for _, f := range []func(uint64, int) (*intmodel.Model, error){graphtest.Residual, graphtest.InvertedResidual, graphtest.ConcatNet, graphtest.FlatNet} {
		for _, b := range []int{8, 4} {
			m, err := f(uint64(b), b)
			if err != nil {
				t.Fatal(err)
			}
			models = append(models, m)
		}
	}
	nRandom := 24
	if testing.Short() {
		nRandom = 6
	}
	for i := range nRandom {
		m, err := graphtest.Random(uint64(100+i), []int{8, 4, 2, 3}[i%4], 4+i%12)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	if !testing.Short() {
		for _, name := range []string{"resnet20", "mobilenetv2"} {
			for _, spec := range []string{"w8a8", "w4a8"} {
				models = append(models, zooGraph(t, name, spec))
			}
		}
	}
	hostModels(t, models, 6, -0.2, 1.2)
}
