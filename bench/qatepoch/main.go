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
	"runtime/pprof"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/train"
)

func main() {
	model := flag.String("model", "lenet5", "model name")
	quant := flag.String("quant", "w8a8", "quantization spec")
	epochs := flag.Int("epochs", 1, "epochs")
	steps := flag.Int("steps", 0, "steps per epoch (0: the whole training set)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the training")
	flag.Parse()

	trainSet, _, err := datasets.Load("mnist", "")
	if err != nil {
		log.Fatal(err)
	}
	q, err := nn.ParseQuantConfig(*quant)
	if err != nil {
		log.Fatal(err)
	}
	m, err := nn.NewModel(*model, q, rand.New(rand.NewSource(1)))
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
	cfg := train.Config{Epochs: *epochs, LR: 0.01, Optimizer: opt, Schedule: sch, Seed: 1, Progress: io.Discard, MaxStepsPerEpoch: *steps}
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
