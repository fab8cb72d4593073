// Command qat is the library-level version of qatgo's main job: train
// LeNet-5 on MNIST in FP32, then fine-tune copies of it with quantization-
// aware training at several precisions, and print a table of test accuracies
// with the integer model's size for each.
//
//	go run ./examples/qat                                  # FP32 4 epochs, then W8A8, W4A8, W2A8 for 2 epochs each
//	go run ./examples/qat -fp32-epochs 1 -qat-epochs 1 -train-limit 10000   # a quick look
//
// The default build picks the fast kernels for the CPU at run time.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"os/signal"
	"strings"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
	"github.com/qatgo/qatgo/zoo"
)

func main() {
	fp32Epochs := flag.Int("fp32-epochs", 4, "FP32 training epochs")
	qatEpochs := flag.Int("qat-epochs", 2, "QAT fine-tuning epochs per spec")
	specs := flag.String("specs", "w8a8,w4a8,w2a8", "quantization specs to fine-tune (separated by ';' or ',')")
	trainLimit := flag.Int("train-limit", 0, "use only the first N training images (0: all)")
	seed := flag.Int64("seed", 1, "seed")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	trainSet, testSet, err := datasets.Load("mnist", "")
	if err != nil {
		log.Fatal(err)
	}
	if *trainLimit > 0 {
		if trainSet, err = trainSet.Subset(*trainLimit); err != nil {
			log.Fatal(err)
		}
	}
	tr, te := train.FromDataset(trainSet), train.FromDataset(testSet)

	// FP32 first.
	fp32, err := compile(qconfig.FP32, *seed)
	if err != nil {
		log.Fatal(err)
	}
	defer fp32.Close()
	fmt.Printf("== FP32, %d epochs\n", *fp32Epochs)
	res, err := train.Fit(ctx, train.NetModel(fp32), tr, te, train.Config{
		Epochs: *fp32Epochs, LR: 0.02, Schedule: train.Cosine{Epochs: *fp32Epochs},
		Optimizer: &train.SGD{Momentum: 0.9, WeightDecay: 5e-4}, Seed: uint64(*seed), Progress: os.Stderr})
	if err != nil {
		log.Fatal(err)
	}
	weights, err := fp32.MarshalState()
	if err != nil {
		log.Fatal(err)
	}
	rows := []string{fmt.Sprintf("| fp32 | %.2f%% | %d |", 100*res.TestAcc, 4*paramCount(fp32))}

	// Then QAT from the FP32 weights, one spec at a time.
	for _, spec := range strings.FieldsFunc(*specs, func(r rune) bool { return r == ';' || r == ',' }) {
		q, err := qconfig.Parse(spec)
		if err != nil {
			log.Fatal(err)
		}
		net, err := compile(q, *seed)
		if err != nil {
			log.Fatal(err)
		}
		if err := net.LoadWeights(weights); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("== QAT %s, %d epochs from FP32\n", spec, *qatEpochs)
		cfg := train.Config{
			Epochs: *qatEpochs, LR: 0.005, Schedule: train.Cosine{Epochs: *qatEpochs},
			Optimizer: &train.SGD{Momentum: 0.9, WeightDecay: 5e-4}, Seed: uint64(*seed), Progress: os.Stderr}
		if *qatEpochs > 1 { // the last epoch trains against frozen ranges
			cfg.Callbacks = []train.Callback{train.FreezeObserversAt(*qatEpochs - 1)}
		}
		res, err := train.Fit(ctx, train.NetModel(net), tr, te, cfg)
		if err != nil {
			log.Fatal(err)
		}
		size := "-"
		if m, err := export.FromNet(net); err == nil {
			if s, err := intmodel.Inspect(m); err == nil {
				size = fmt.Sprint(s.StoredBytes)
			}
		} else {
			size = "not exportable: " + err.Error()
		}
		rows = append(rows, fmt.Sprintf("| %s | %.2f%% | %s |", spec, 100*res.TestAcc, size))
		net.Close()
	}
	fmt.Println("\n| model | test accuracy | parameter bytes |\n|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
}

func compile(q qconfig.Config, seed int64) (*nn.Net, error) {
	m, err := zoo.New("lenet5", q, rand.New(rand.NewSource(seed)))
	if err != nil {
		return nil, err
	}
	return nn.Compile(m, nn.CompileConfig{Batch: 64, InputShape: [3]int{1, 28, 28}, Classes: 10})
}

func paramCount(n *nn.Net) int {
	c := 0
	for _, p := range n.Params() {
		if p.Trainable {
			c += p.Value.Shape().TotalSize()
		}
	}
	return c
}
