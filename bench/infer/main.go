// Command infer times inference of a zoo model at batch 256 on synthetic
// MNIST-shaped images: the float model (nn's evaluation graph, FP32) and
// its W8A8 integer form (intruntime, after a few QAT steps so that every
// observer and BatchNorm statistic is set), both per CPU-second, in
// interleaved rounds, and per wall-clock second (the figure to compare on
// a calm machine: PyTorch's idle OpenMP threads spin and count as CPU). bench/torchref/infer.py is the PyTorch side
// (eval() FP32 and the convert()ed int8 model); bench/torchref/compare.py
// -infer runs both alternately and prints the ratios. The median lines also
// give G multiply-adds per CPU-second (the model's multiply-adds from
// intmodel.Inspect), to set against the core's peak from bench/peak.
//
//	go build -o /tmp/infer ./bench/infer
//	GOMAXPROCS=1 /tmp/infer -model resnet20 -rounds 3
//	GOMAXPROCS=1 /tmp/infer -qint runs/quickstart/lenet5-w8a8.qint   # a trained, exported model
//	GOMAXPROCS=1 /tmp/infer -model mobilenetv2 -only int8 -layers    # and the time per layer
//
// Trained weights matter to the AVX2 (no VNNI) int8 kernel, whose extra
// pass runs only for weight pairs that could saturate VPMADDUBSW: few in
// trained layers, half of all pairs for a zoo model's initial weights.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

var batch = 256

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func compile(model, spec string, b int) (*nn.Net, error) {
	q, err := qconfig.Parse(spec)
	if err != nil {
		return nil, err
	}
	m, err := zoo.New(model, q, rand.New(rand.NewSource(1)))
	if err != nil {
		return nil, err
	}
	return nn.Compile(m, nn.CompileConfig{Batch: b, InputShape: [3]int{1, 28, 28}, Classes: 10})
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func main() {
	model := flag.String("model", "lenet5", "zoo model name")
	rounds := flag.Int("rounds", 3, "interleaved rounds")
	reps := flag.Int("reps", 0, "batches per variant per round (0: about a second's worth)")
	only := flag.String("only", "", "fp32 or int8 (default both)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the timed rounds")
	qint := flag.String("qint", "", "time this exported integer model (.qint) instead of -model's")
	layers := flag.Bool("layers", false, "also print the integer model's time per layer (Runner.TimeLayers)")
	flag.IntVar(&batch, "batch", batch, "images per inference batch")
	flag.Parse()
	if *qint != "" {
		*only = "int8"
	}

	rng := rand.New(rand.NewSource(2))
	x := make([]float32, max(batch, 64)*784)
	for i := range x {
		x[i] = float32(rng.Float64())
	}
	labels := make([]int, 64)
	for i := range labels {
		labels[i] = rng.Intn(10)
	}
	logits := make([]float32, batch*10)

	type variant struct {
		name string
		run  func() error
		rate []float64 // images per CPU-second, per round
		wall []float64 // images per second
	}
	var vs []*variant
	var rt *intruntime.Runner // the int8 variant's
	var macs int64            // multiply-adds per image (intmodel.Inspect)
	setMACs := func(im *intmodel.Model) {
		if sum, err := intmodel.Inspect(im); err == nil {
			macs = sum.MACs
		}
	}
	if *only == "" || *only == "fp32" {
		fp, err := compile(*model, "fp32", batch)
		if err != nil {
			log.Fatal(err)
		}
		defer fp.Close()
		vs = append(vs, &variant{name: "fp32", run: func() error { return fp.Predict(x[:batch*784], batch, logits) }})
	}
	if *qint != "" {
		im, err := intmodel.Read(*qint)
		if err != nil {
			log.Fatal(err)
		}
		setMACs(im)
		r, err := intruntime.NewRunner(im, batch, 1)
		if err != nil {
			log.Fatal(err)
		}
		x = make([]float32, batch*r.InputSize())
		for i := range x {
			x[i] = float32(rng.Float64())
		}
		logits = make([]float32, batch*r.OutputSize())
		defer r.Close()
		rt = r
		*model = *qint
		vs = append(vs, &variant{name: "int8", run: func() error { return r.Run(x, batch, logits) }})
	} else if *only == "" || *only == "int8" {
		// A few QAT steps at batch 64 set the observers and BN statistics.
		q, err := compile(*model, "w8a8", 64)
		if err != nil {
			log.Fatal(err)
		}
		for range 3 {
			if _, _, err := q.Step(x[:64*784], labels); err != nil {
				log.Fatal(err)
			}
		}
		im, err := export.FromNet(q)
		if err != nil {
			log.Fatal(err)
		}
		q.Close()
		setMACs(im)
		r, err := intruntime.NewRunner(im, batch, 1)
		if err != nil {
			log.Fatal(err)
		}
		defer r.Close()
		rt = r
		vs = append(vs, &variant{name: "int8", run: func() error { return r.Run(x[:batch*784], batch, logits) }})
	}
	if macs == 0 {
		// fp32 only: the layers' multiply-adds from the integer form of
		// the same architecture.
		if q, err := compile(*model, "w8a8", 64); err == nil {
			if _, _, err := q.Step(x[:64*784], labels); err == nil {
				if im, err := export.FromNet(q); err == nil {
					setMACs(im)
				}
			}
			q.Close()
		}
	}
	fmt.Printf("model %s, batch %d, GOMAXPROCS %d, %.2f M multiply-adds per image\n", *model, batch, runtime.GOMAXPROCS(0), float64(macs)/1e6)
	for _, v := range vs {
		if err := v.run(); err != nil { // warm-up
			log.Fatal(err)
		}
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
	if *layers && rt != nil {
		rt.TimeLayers(true) // the warm-up calls of each round included
	}
	for r := range *rounds {
		for _, v := range vs {
			n := *reps
			if n == 0 {
				c0 := cpuTime()
				if err := v.run(); err != nil {
					log.Fatal(err)
				}
				n = max(1, int(time.Second/max(cpuTime()-c0, time.Millisecond)))
			}
			c0, t0 := cpuTime(), time.Now()
			for range n {
				if err := v.run(); err != nil {
					log.Fatal(err)
				}
			}
			rate := float64(n*batch) / (cpuTime() - c0).Seconds()
			wall := float64(n*batch) / time.Since(t0).Seconds()
			v.rate, v.wall = append(v.rate, rate), append(v.wall, wall)
			fmt.Printf("round %d %-5s %9.0f img/cpu-s %9.0f img/s\n", r+1, v.name, rate, wall)
		}
	}
	for _, v := range vs {
		// G multiply-adds per CPU-second: against the core's peak
		// (bench/peak), how much of the machine the model uses.
		fmt.Printf("median %-5s %9.0f img/cpu-s %9.0f img/s %7.1f G MAC/cpu-s\n", v.name, median(v.rate), median(v.wall), median(v.rate)*float64(macs)/1e9)
	}
	if *layers && rt != nil {
		printLayers(rt)
	}
}

// printLayers prints the int8 runner's time per layer and image (wall
// time, summed over workers) and each layer's share of the total.
func printLayers(r *intruntime.Runner) {
	lts := r.LayerTimes()
	var total float64
	for _, lt := range lts {
		if lt.Images > 0 {
			total += lt.Time.Seconds() / float64(lt.Images)
		}
	}
	fmt.Printf("%-3s %-24s %-14s %-12s %9s %6s\n", "#", "layer", "kind", "output", "µs/image", "share")
	for i, lt := range lts {
		if lt.Images == 0 {
			continue
		}
		us := lt.Time.Seconds() / float64(lt.Images) * 1e6
		s := r.LayerShape(i)
		fmt.Printf("%-3d %-24s %-14s %-12s %9.2f %5.1f%%\n", i, lt.Name, lt.Kind, fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W), us, 100*us/1e6/total)
	}
	fmt.Printf("%-3s %-24s %-14s %-12s %9.2f\n", "", "total", "", "", total*1e6)
}
