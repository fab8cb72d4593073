package nn

import (
	"math/rand"
	"testing"
)

func TestSmoke(t *testing.T) {
	for _, spec := range []string{"fp32", "w8a8"} {
		for _, name := range ModelNames() {
			q, _ := ParseQuantConfig(spec)
			m, err := NewModel(name, q, rand.New(rand.NewSource(1)))
			if err != nil {
				t.Fatal(err)
			}
			n, err := Compile(m, CompileConfig{Batch: 8, InputShape: [3]int{1, 28, 28}, Classes: 10})
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, 8*784)
			for i := range x {
				x[i] = rand.Float32()
			}
			labels := []int{0, 1, 2, 3, 4, 5, 6, 7}
			loss, c, err := n.Step(x, labels)
			t.Log(spec, name, loss, c, err)
			lg := make([]float32, 80)
			err = n.Predict(x[:784*3], 3, lg)
			t.Log(lg[:10], err)
		}
	}
}
