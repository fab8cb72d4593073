package lenet5infer

import (
	"math/rand"
	"syscall"
	"testing"

	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

// cpuSeconds is the process's user+system CPU time: on a shared machine
// throughput per CPU-second is what one uncontended core would do.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// BenchmarkLeNet5FP32 times nn's float32 LeNet-5 Predict at batch 256.
func BenchmarkLeNet5FP32(b *testing.B) {
	const batch = 256
	m, err := zoo.New("lenet5", qconfig.FP32, rand.New(rand.NewSource(1)))
	if err != nil {
		b.Fatal(err)
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: batch, InputShape: [3]int{1, 28, 28}, Classes: 10})
	if err != nil {
		b.Fatal(err)
	}
	defer net.Close()
	rng := rand.New(rand.NewSource(5))
	x := make([]float32, batch*784)
	for i := range x {
		x[i] = rng.Float32()
	}
	logits := make([]float32, batch*10)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for b.Loop() {
		if err := net.Predict(x, batch, logits); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuSeconds() - cpu0
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	if cpu > 0 {
		b.ReportMetric(float64(batch)*float64(b.N)/cpu, "images/cpu-s")
	}
}
