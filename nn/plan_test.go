package nn

import (
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
				stepSame(t, nets, x, y, step, [2]string{"planned", "not planned"})
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
