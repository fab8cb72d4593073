package nn

import (
	"math"
	"math/rand"
	"testing"
)

// TestPlanBuffersSameBits trains zoo models with their input gradients in
// shared buffers (kernels.PlanBuffers, poisoned with NaN before every write)
// and with each in its op's own tensor: the losses, the parameter
// gradients and the input's gradient (read after the run, so never shared)
// have the same bits step after step.
func TestPlanBuffersSameBits(t *testing.T) {
	cases := []struct {
		model, spec string
		minOutputs  int // planned outputs at least
	}{
		{"resnet20", "fp32", 40},
		{"resnet20", "w8a8", 40},
		{"mobilenetv2", "fp32", 40},
		{"mobilenetv2", "w4a4,aobs=minmax", 40},
		{"vgg-small", "w8a8", 4},
		{"lenet5", "fp32", 1},
	}
	for _, c := range cases {
		t.Run(c.model+"/"+c.spec, func(t *testing.T) {
			const batch = 4
			var nets [2]*Net
			for i := range nets {
				m, err := testModel(c.model, c.spec, 3)
				if err != nil {
					t.Fatal(err)
				}
				n, err := Compile(m, CompileConfig{Batch: batch, InputShape: mnistShape, Classes: 10,
					inputGrad: true, noPlan: i == 1, poisonPlan: i == 0})
				if err != nil {
					t.Fatal(err)
				}
				defer n.Close()
				nets[i] = n
			}
			if st := nets[0].train.plan; st.Outputs < c.minOutputs || c.minOutputs > 1 && st.SharedBytes >= st.Bytes {
				t.Fatalf("plan %+v: want ≥ %d outputs in fewer bytes", st, c.minOutputs)
			}
			if st := nets[1].train.plan; st.Outputs != 0 {
				t.Fatalf("noPlan: plan %+v", st)
			}
			rng := rand.New(rand.NewSource(9))
			for step := range 3 {
				x, y := randomBatch(rng, batch, 28*28, 10)
				var loss [2]float32
				for i, n := range nets {
					l, _, err := n.Step(x, y)
					if err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
					loss[i] = l
				}
				if math.Float32bits(loss[0]) != math.Float32bits(loss[1]) || loss[0] != loss[0] {
					t.Fatalf("step %d: loss %v planned, %v not", step, loss[0], loss[1])
				}
				p0, p1 := nets[0].Params(), nets[1].Params()
				for k := range p0 {
					if p0[k].Grad == nil {
						continue
					}
					if !equalBits(data[float32](p0[k].Grad), data[float32](p1[k].Grad)) {
						t.Fatalf("step %d: gradient of %s differs", step, p0[k].Name)
					}
				}
				if !equalBits(data[float32](nets[0].xgrad), data[float32](nets[1].xgrad)) {
					t.Fatalf("step %d: the input's gradient differs", step)
				}
				for i := range nets {
					sgd(nets[i], 0.02)
				}
			}
		})
	}
}
