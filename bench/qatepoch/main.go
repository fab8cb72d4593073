// Command qatepoch runs LeNet-5 (or another nn model) training epochs on
// MNIST through train.Fit, as `qatgo train` does (SGD with momentum 0.9 and
// weight decay 5e-4, lr 0.01, batch 64), with an optional CPU profile of the
// whole run, to see where an epoch's time goes outside the step itself
// (batch filling, the optimizer, progress output).
//
//	GOEXPERIMENT=simd go build -o /tmp/qatepoch ./bench/qatepoch
//	GOMAXPROCS=2 /tmp/qatepoch -quant w8a8 -cpuprofile /tmp/epoch.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
	"github.com/qatgo/qatgo/zoo"
)

func main() {
	model := flag.String("model", "lenet5", "model name")
	quant := flag.String("quant", "w8a8", "quantization spec")
	epochs := flag.Int("epochs", 1, "epochs")
	steps := flag.Int("steps", 0, "steps per epoch (0: the whole training set)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the training")
	dir := flag.String("dir", "", "write a checkpoint here after every epoch, as qatgo train does")
	mem := flag.Bool("memstats", false, "print Go heap statistics at every epoch start and at the end")
	flag.Parse()

	trainSet, _, err := datasets.Load("mnist", "")
	if err != nil {
		log.Fatal(err)
	}
	q, err := qconfig.Parse(*quant)
	if err != nil {
		log.Fatal(err)
	}
	m, err := zoo.New(*model, q, rand.New(rand.NewSource(1)))
	if err != nil {
		log.Fatal(err)
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: 64, InputShape: [3]int{trainSet.C, trainSet.H, trainSet.W}, Classes: trainSet.NumClasses})
	if err != nil {
		log.Fatal(err)
	}
	defer net.Close()
	opt, err := train.NewOptimizer("sgd", 0.9, 5e-4)
	if err != nil {
		log.Fatal(err)
	}
	sch, err := train.ParseSchedule("constant", *epochs)
	if err != nil {
		log.Fatal(err)
	}
	cfg := train.Config{Epochs: *epochs, LR: 0.01, Optimizer: opt, Schedule: sch, Seed: 1, Progress: io.Discard, MaxStepsPerEpoch: *steps, Dir: *dir}
	if *mem {
		cfg.Callbacks = append(cfg.Callbacks, train.CallbackFunc(func(e int, _ train.Model) error {
			printMem(fmt.Sprintf("epoch %d start", e+1))
			return nil
		}))
		defer printMem("end")
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
	res, err := train.Fit(context.Background(), train.NetModel(net), train.FromDataset(trainSet), nil, cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range res.History {
		fmt.Printf("epoch %d: %d images in %.2f s, %.0f img/s, loss %.4f\n", h.Epoch, h.Images, h.Seconds, h.ImagesPerSec, h.TrainLoss)
	}
}

// printMem prints the live heap after a collection and what the runtime holds
// from the OS, to tell a leak (live heap growing per epoch) from GC headroom.
func printMem(when string) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%-14s heap live %6.1f MB, heap sys %6.1f MB, total sys %6.1f MB, GCs %d\n", when,
		float64(ms.HeapAlloc)/1e6, float64(ms.HeapSys)/1e6, float64(ms.Sys)/1e6, ms.NumGC)
}
