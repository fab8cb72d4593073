package intruntime

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/qatgo/qatgo/internal/graphtest"
	"github.com/qatgo/qatgo/intmodel"
)

// BenchmarkGEMM times the packed GEMM kernel alone on LeNet-5's shapes at
// batch 256 and on resnet20's (a chunk of images, as the runner calls it),
// for 8-bit weights (the split path under archsimd) and 7-bit
// weights (provably safe: the single-product path). 2·M·K·N ops.
func BenchmarkGEMM(b *testing.B) {
	const batch = 256
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct {
		name    string
		m, k, n int
	}{
		{"conv1", 20, 25, 24 * 24 * batch},
		{"conv2", 50, 500, 8 * 8 * batch},
		{"fc1", 500, 800, batch},
		{"fc2", 10, 500, batch},
		{"vggfc1", 128, 1568, batch},
		// resnet20's 3×3 convolutions, one chunk of images a call
		{"r20s1", 16, 144, 784},
		{"r20s2", 32, 288, 2 * 208},
		{"r20s3", 64, 576, 3 * 64},
		{"k4_4", 96, 16, 784},
		{"k4_6", 144, 24, 784},
		{"k4_8", 96, 32, 784},
		{"k4_12", 96, 48, 784},
		{"mv2p16", 16, 16, 784},
		{"mv2p24", 24, 96, 784},
		{"mv2p24b", 24, 144, 784},
		{"mv2p64", 64, 384, 16 * 49},
	} {
		for _, wbits := range []int{8, 7} {
			b.Run(fmt.Sprintf("%s_%dx%dx%d_w%d", s.name, s.m, s.k, s.n, wbits), func(b *testing.B) {
				a := packWeights(randWeights(rng, s.m*s.k, wbits), s.m, s.k, 255)
				bp := make([]byte, packedCols(s.n, a.k4))
				for i := range bp {
					bp[i] = uint8(rng.IntN(256))
				}
				ng := groupsFor(s.n)
				c := make([]int32, a.mpad*ng*laneCols)
				b.ResetTimer()
				cpu0 := cpuSeconds()
				for b.Loop() {
					gemm(c, ng*laneCols, a, bp, ng)
				}
				cpu := cpuSeconds() - cpu0
				ops := 2 * float64(s.m) * float64(s.k) * float64(s.n)
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				if cpu > 0 {
					b.ReportMetric(ops*float64(b.N)/cpu/1e9, "GOP/cpu-s")
				}
			})
		}
	}
}

// BenchmarkLeNet5 runs the whole LeNet-5-shaped integer model at batch 256
// with workers = GOMAXPROCS (run with -cpu 1,2).
func BenchmarkLeNet5(b *testing.B) {
	const batch = 256
	for _, wbits := range []int{8, 7, 4} {
		b.Run(fmt.Sprintf("w%d", wbits), func(b *testing.B) {
			m := leNet5(b, 1, wbits)
			r, err := NewRunner(m, batch, runtime.GOMAXPROCS(0))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			x := randImages(rand.New(rand.NewPCG(5, 5)), batch*784)
			logits := make([]float32, batch*10)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for b.Loop() {
				if err := r.Run(x, batch, logits); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuSeconds() - cpu0
			b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
			if cpu > 0 {
				// Per CPU-second: on a shared machine wall time includes
				// time the process waited for a core.
				b.ReportMetric(float64(batch)*float64(b.N)/cpu, "images/cpu-s")
			}
		})
	}
}

// BenchmarkDepthwise times the direct grouped-conv kernel alone on
// MobileNetV2-like depthwise layers (3×3, pad 1, stride 1 and 2; batch 64,
// one goroutine), and a whole inverted-residual block (expand 1×1 16→96 +
// ReLU6, depthwise 3×3 + ReLU6, project 96→16, residual add, 28×28) through
// Run with workers = GOMAXPROCS, which includes quantizing the float input.
// MAC/s counts the convolutions' multiply-accumulates.
func BenchmarkDepthwise(b *testing.B) {
	const batch = 64
	for _, c := range []struct {
		name   string
		in     intmodel.Shape
		stride int
	}{
		{"dw96_14x14_s1", intmodel.Shape{C: 96, H: 14, W: 14}, 1},
		{"dw32_28x28_s1", intmodel.Shape{C: 32, H: 28, W: 28}, 1},
		{"dw96_28x28_s2", intmodel.Shape{C: 96, H: 28, W: 28}, 2},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := graphtest.NewBuilder(1, c.in, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, 8)
			g.Conv(0, c.in.C, 3, c.stride, 1, c.in.C, false, true)
			m, err := g.Model()
			if err != nil {
				b.Fatal(err)
			}
			r, err := NewRunner(m, batch, 1)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			x := randImages(rand.New(rand.NewPCG(5, 5)), batch*c.in.Size())
			if err := r.Run(x, batch, make([]float32, batch*r.OutputSize())); err != nil {
				b.Fatal(err)
			}
			e := r.engines[0]
			s := &e.steps[0]
			macs := float64(r.OutputSize()) * 9 * batch
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for b.Loop() {
				e.groupedConv(e.bufs[1], e.bufs[0], s, batch)
			}
			cpu := cpuSeconds() - cpu0
			b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			if cpu > 0 {
				b.ReportMetric(macs*float64(b.N)/cpu/1e9, "GMAC/cpu-s")
			}
		})
	}
	b.Run("block16x96_28x28", func(b *testing.B) {
		in := intmodel.Shape{C: 16, H: 28, W: 28}
		g := graphtest.NewBuilder(1, in, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, 8)
		e := g.Conv(0, 96, 1, 1, 0, 1, false, true)
		d := g.Conv(e, 96, 3, 1, 1, 96, false, true)
		p := g.Conv(d, 16, 1, 1, 0, 1, false, false)
		g.Add(0, p, false, false)
		m, err := g.Model()
		if err != nil {
			b.Fatal(err)
		}
		r, err := NewRunner(m, batch, runtime.GOMAXPROCS(0))
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		x := randImages(rand.New(rand.NewPCG(5, 5)), batch*in.Size())
		logits := make([]float32, batch*r.OutputSize())
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuSeconds()
		for b.Loop() {
			if err := r.Run(x, batch, logits); err != nil {
				b.Fatal(err)
			}
		}
		cpu := cpuSeconds() - cpu0
		macs := float64(16*96+96*9+96*16) * 28 * 28 * batch
		b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
		if cpu > 0 {
			b.ReportMetric(float64(batch)*float64(b.N)/cpu, "images/cpu-s")
			b.ReportMetric(macs*float64(b.N)/cpu/1e9, "GMAC/cpu-s")
		}
	})
}
