// Command qatstep compares the training step time of a model compiled by nn
// in FP32 and with fake quantization (W8A8 by default), at batch 64 on
// synthetic MNIST-shaped data, with the library's plain SGD (train.SGD)
// applied after every step, as bench/torchref's step.py applies
// torch.optim.SGD.
//
// The machine it was written for is shared, so the two variants run
// interleaved (rounds of FP32 steps then QAT steps) and both wall-clock and
// process CPU time per step are printed for every round, with medians: the
// CPU time and the per-round ratio are far less sensitive to other load than
// the wall-clock rate.
//
//	go build -o /tmp/qatstep ./bench/qatstep
//	GOMAXPROCS=2 /tmp/qatstep -rounds 5 -steps 60
//	GOMAXPROCS=2 /tmp/qatstep -only w8a8 -rounds 1 -steps 400 -cpuprofile /tmp/qat.prof
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
	"github.com/qatgo/qatgo/zoo"
	"gorgonia.org/tensor"
)

const batch = 64

type variant struct {
	spec  string
	net   *nn.Net
	wall  []float64 // seconds per step, per round
	cpu   []float64
	steps []float64 // each step's wall seconds (-spread)
}

func compile(model, spec string) (*nn.Net, error) {
	q, err := qconfig.Parse(spec)
	if err != nil {
		return nil, err
	}
	m, err := zoo.New(model, q, rand.New(rand.NewSource(1)))
	if err != nil {
		return nil, err
	}
	return nn.Compile(m, nn.CompileConfig{Batch: batch, InputShape: [3]int{1, 28, 28}, Classes: 10})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sgd is one step of the library's plain SGD (train.SGD, w −= lr·g, as
// the PyTorch side runs torch.optim.SGD) on every trainable parameter.
func sgd(n *nn.Net, lr float32) {
	var ts []train.Tensor
	for _, p := range n.Params() {
		if !p.Trainable || p.Grad == nil {
			continue
		}
		ts = append(ts, train.Tensor{Name: p.Name, Value: p.Value.Data().([]float32), Grad: p.Grad.Data().([]float32)})
	}
	var o train.SGD
	if err := o.Step(ts, lr); err != nil {
		log.Fatal(err)
	}
}

// macsPerImage is the model's multiply-adds per image as `qatgo inspect`
// counts them (intmodel.Inspect: a convolution's weights times its output
// positions, a linear layer's weights), from the integer form of a W8A8
// copy after one step; compare.py turns it into GFLOP/s.
func macsPerImage(model string, x []float32, labels []int) (int64, error) {
	n, err := compile(model, "w8a8")
	if err != nil {
		return 0, err
	}
	defer n.Close()
	if _, _, err := n.Step(x, labels); err != nil {
		return 0, err
	}
	im, err := export.FromNet(n)
	if err != nil {
		return 0, err
	}
	sum, err := intmodel.Inspect(im)
	if err != nil {
		return 0, err
	}
	return sum.MACs, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func main() {
	model := flag.String("model", "lenet5", "model name")
	qat := flag.String("qat", "w8a8", "quantization spec of the QAT variant")
	only := flag.String("only", "", "run only this spec (fp32 or the -qat spec)")
	rounds := flag.Int("rounds", 5, "interleaved rounds")
	steps := flag.Int("steps", 60, "steps per variant per round")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the timed steps")
	spread := flag.Bool("spread", false, "print each variant's step wall times at the 10th, 50th and 90th percentile and the slowest")
	flag.Parse()

	specs := []string{"fp32", *qat}
	if *only != "" {
		specs = []string{*only}
	}
	rng := rand.New(rand.NewSource(2))
	x := make([]float32, batch*784)
	for i := range x {
		x[i] = float32(rng.Float64()) // pixel-like values in [0, 1)
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.Intn(10)
	}
	// Counted first, its net freed before the measured ones are built, so
	// that peak RSS (/usr/bin/time) stays the measured nets'.
	macs, err := macsPerImage(*model, x, labels)
	if err != nil {
		log.Fatal(err)
	}
	debug.FreeOSMemory()
	var vs []*variant
	for _, s := range specs {
		n, err := compile(*model, s)
		if err != nil {
			log.Fatal(err)
		}
		defer n.Close()
		// Warm-up: buffers are sized on the first runs.
		for i := 0; i < 3; i++ {
			if _, _, err := n.Step(x, labels); err != nil {
				log.Fatal(err)
			}
			sgd(n, 1e-3)
		}
		vs = append(vs, &variant{spec: s, net: n})
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("model %s, batch %d, GOMAXPROCS %d, %s, %.2f M multiply-adds per image\n", *model, batch, runtime.GOMAXPROCS(0), tensor.Float32, float64(macs)/1e6)
	for r := 0; r < *rounds; r++ {
		for _, v := range vs {
			c0, t0 := cpuTime(), time.Now()
			for i := 0; i < *steps; i++ {
				s0 := time.Now()
				if _, _, err := v.net.Step(x, labels); err != nil {
					log.Fatal(err)
				}
				sgd(v.net, 1e-3)
				if *spread {
					v.steps = append(v.steps, time.Since(s0).Seconds())
				}
			}
			w := time.Since(t0).Seconds() / float64(*steps)
			c := (cpuTime() - c0).Seconds() / float64(*steps)
			v.wall, v.cpu = append(v.wall, w), append(v.cpu, c)
			fmt.Printf("round %d %-10s %7.0f img/s  wall %6.2f ms/step  cpu %6.2f ms/step\n", r+1, v.spec, batch/w, 1e3*w, 1e3*c)
		}
	}
	for _, v := range vs {
		fmt.Printf("median %-10s %7.0f img/s  wall %6.2f ms/step  cpu %6.2f ms/step\n", v.spec, batch/median(v.wall), 1e3*median(v.wall), 1e3*median(v.cpu))
	}
	if *spread {
		for _, v := range vs {
			st := slices.Sorted(slices.Values(v.steps))
			at := func(q float64) float64 { return 1e3 * st[min(len(st)-1, int(q*float64(len(st))))] }
			fmt.Printf("spread %-10s step wall ms: p10 %.2f p50 %.2f p90 %.2f max %.2f (%d steps)\n", v.spec, at(0.1), at(0.5), at(0.9), 1e3*st[len(st)-1], len(st))
		}
	}
	if len(vs) == 2 {
		var rw, rc []float64
		for r := range vs[0].wall {
			rw = append(rw, vs[1].wall[r]/vs[0].wall[r])
			rc = append(rc, vs[1].cpu[r]/vs[0].cpu[r])
		}
		fmt.Printf("ratio %s/fp32: wall median %.3f (rounds %.3f..%.3f), cpu median %.3f (rounds %.3f..%.3f)\n",
			vs[1].spec, median(rw), slices.Min(rw), slices.Max(rw), median(rc), slices.Min(rc), slices.Max(rc))
	}
}
