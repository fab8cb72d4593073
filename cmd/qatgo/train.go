package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
	"github.com/qatgo/qatgo/zoo"
)

// RunConfig is what a run directory records about how its model was built
// and trained (config.json), so eval, export and sweeps can rebuild it.
type RunConfig struct {
	Model       string  `json:"model"`
	Data        string  `json:"data"`
	DataDir     string  `json:"data_dir,omitempty"`
	Quant       string  `json:"quant"`
	QuantFile   string  `json:"quant_config,omitempty"`
	Batch       int     `json:"batch"`
	Epochs      int     `json:"epochs"`
	Optimizer   string  `json:"optimizer"`
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Schedule    string  `json:"schedule"`
	Seed        uint64  `json:"seed"`
	Init        string  `json:"init,omitempty"`
	PTQ         bool    `json:"ptq,omitempty"`
	TrainLimit  int     `json:"train_limit,omitempty"`
	TestLimit   int     `json:"test_limit,omitempty"`
}

// trainMemoryLimit is the soft memory limit of qatgo train (see runTrain).
const trainMemoryLimit = 512 << 20

// Files of a run directory.
const (
	runConfigName = "config.json"
	stateFileName = "model.state" // nn.Net.SaveState: the trained model
)

// trainSummary is train's --json line.
type trainSummary struct {
	Model        string             `json:"model"`
	Data         string             `json:"data"`
	Quant        string             `json:"quant"`
	Epochs       int                `json:"epochs"`
	TestAcc      float64            `json:"test_accuracy"`
	ImagesPerSec float64            `json:"train_images_per_sec"`
	Seconds      float64            `json:"seconds"`
	Out          string             `json:"out"`
	History      []train.EpochStats `json:"history,omitempty"`
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", stderr)
	var c RunConfig
	fs.StringVar(&c.Model, "model", "lenet5", "model: "+strings.Join(modelsFrom(ctx).Names(), ", "))
	fs.StringVar(&c.Data, "data", "mnist", "dataset: mnist, fashion-mnist or synthetic")
	fs.StringVar(&c.DataDir, "data-dir", "", "dataset directory (default: located automatically)")
	fs.StringVar(&c.Quant, "quant", "fp32", "quantization spec: fp32, w8a8, w4a8, w2a8, ... with options, e.g. w4a8,per-tensor (see qconfig.Parse)")
	fs.StringVar(&c.QuantFile, "quant-config", "", "JSON file of per-layer overrides for mixed precision")
	fs.IntVar(&c.Batch, "batch", 64, "batch size")
	fs.IntVar(&c.Epochs, "epochs", 4, "epochs")
	fs.StringVar(&c.Optimizer, "optimizer", "sgd", "sgd, adam or adamw")
	fs.Float64Var(&c.LR, "lr", 0.01, "learning rate")
	fs.Float64Var(&c.Momentum, "momentum", 0.9, "SGD momentum")
	fs.Float64Var(&c.WeightDecay, "weight-decay", 5e-4, "weight decay (weights only)")
	fs.StringVar(&c.Schedule, "schedule", "constant", "learning-rate schedule: constant, step:EVERY:GAMMA, cosine[:MIN]")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed for initialisation and shuffling")
	fs.StringVar(&c.Init, "init", "", "start from this run directory's (or checkpoint file's) weights, e.g. an FP32 run for QAT")
	fs.BoolVar(&c.PTQ, "ptq", false, "post-training quantization: calibrate observers on training data, no gradient steps")
	fs.IntVar(&c.TrainLimit, "train-limit", 0, "use only the first N training images (0: all)")
	fs.IntVar(&c.TestLimit, "test-limit", 0, "use only the first N test images (0: all)")
	calib := fs.Int("calib-images", 2048, "images used by --ptq")
	freezeObs := fs.Int("freeze-observers-epoch", -1, "stop updating quantization ranges from this epoch (0-based; -1 never)")
	freezeBN := fs.Int("freeze-bn-epoch", -1, "freeze BatchNorm statistics from this epoch (0-based; -1 never)")
	out := fs.String("out", "", "run directory to write (config, checkpoints, results); required")
	resume := fs.Bool("resume", false, "continue an interrupted run in --out from its last checkpoint")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "qatgo train: --out is required")
		return errUsage
	}
	if *freezeObs == 0 && !*resume {
		return errors.New("--freeze-observers-epoch 0 would freeze the quantizers before they observe any range; use 1 or later (or --ptq to calibrate)")
	}
	if *resume {
		// The run's own config wins: a resumed run must be the same run.
		prev, err := readRunConfig(*out)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		c = *prev
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The live heap of a training run is flat, but the collector lets
		// the process grow by GOGC headroom every few epochs; a soft limit
		// keeps the resident size flat too (no speed cost measured at
		// 450 MiB for LeNet-5). GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(trainMemoryLimit)
	}
	t0 := time.Now()
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	net, err := buildNet(ctx, c, trainSet)
	if err != nil {
		return err
	}
	defer net.Close()
	if c.Init != "" && !*resume {
		if err := initFrom(net, c.Init); err != nil {
			return err
		}
	}
	if err := writeRunConfig(*out, &c); err != nil {
		return err
	}
	model := train.NetModel(net)
	progress := io.Writer(stderr)
	var res *train.Result
	if c.PTQ {
		fmt.Fprintf(stderr, "calibrating %s (%s) on %d images\n", c.Model, c.Quant, min(*calib, trainSet.Len()))
		if err := train.Calibrate(model, train.FromDataset(trainSet), *calib); err != nil {
			return err
		}
		acc, err := train.Evaluate(model, train.FromDataset(testSet))
		if err != nil {
			return err
		}
		res = &train.Result{TestAcc: acc}
		if err := net.SaveState(filepath.Join(*out, stateFileName)); err != nil {
			return err
		}
	} else {
		opt, err := train.NewOptimizer(c.Optimizer, float32(c.Momentum), float32(c.WeightDecay))
		if err != nil {
			return err
		}
		sch, err := train.ParseSchedule(c.Schedule, c.Epochs)
		if err != nil {
			return err
		}
		cfg := train.Config{Epochs: c.Epochs, LR: float32(c.LR), Optimizer: opt, Schedule: sch, Seed: c.Seed,
			Dir: *out, Resume: *resume, Progress: progress}
		if *freezeObs >= 0 {
			cfg.Callbacks = append(cfg.Callbacks, train.FreezeObserversAt(*freezeObs))
		}
		if *freezeBN >= 0 {
			cfg.Callbacks = append(cfg.Callbacks, train.FreezeBNAt(*freezeBN))
		}
		fmt.Fprintf(stderr, "training %s on %s (%d train / %d test images), quant %s, %d epochs, batch %d, %s lr %g\n",
			c.Model, c.Data, trainSet.Len(), testSet.Len(), c.Quant, c.Epochs, c.Batch, opt, c.LR)
		res, err = train.Fit(ctx, model, train.FromDataset(trainSet), train.FromDataset(testSet), cfg)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return fmt.Errorf("interrupted; rerun with --resume --out %s to continue from the last finished epoch", *out)
			}
			return err
		}
		if res.TestAcc < 0 {
			if res.TestAcc, err = train.Evaluate(model, train.FromDataset(testSet)); err != nil {
				return err
			}
		}
		if err := net.SaveState(filepath.Join(*out, stateFileName)); err != nil {
			return err
		}
	}
	sum := trainSummary{Model: c.Model, Data: c.Data, Quant: c.Quant, Epochs: c.Epochs, TestAcc: res.TestAcc,
		ImagesPerSec: res.ImagesPerSec, Seconds: time.Since(t0).Seconds(), Out: *out, History: res.History}
	if err := writeJSONFile(filepath.Join(*out, "result.json"), sum); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "test accuracy %.2f%% (%s %s on %s), model in %s\n", 100*res.TestAcc, c.Model, c.Quant, c.Data, *out)
	if *asJSON {
		return printJSON(stdout, sum)
	}
	return nil
}

func loadData(c RunConfig) (trainSet, testSet *datasets.Dataset, err error) {
	trainSet, testSet, err = datasets.Load(c.Data, c.DataDir)
	if err != nil {
		return nil, nil, err
	}
	if c.TrainLimit > 0 && c.TrainLimit < trainSet.Len() {
		if trainSet, err = trainSet.Subset(c.TrainLimit); err != nil {
			return nil, nil, err
		}
	}
	if c.TestLimit > 0 && c.TestLimit < testSet.Len() {
		if testSet, err = testSet.Subset(c.TestLimit); err != nil {
			return nil, nil, err
		}
	}
	return trainSet, testSet, nil
}

// buildNet makes the model a run config describes, compiled for its batch.
func buildNet(ctx context.Context, c RunConfig, d *datasets.Dataset) (*nn.Net, error) {
	q, err := qconfig.Parse(c.Quant)
	if err != nil {
		return nil, err
	}
	if c.QuantFile != "" {
		if err := q.LoadOverrides(c.QuantFile); err != nil {
			return nil, err
		}
	}
	spec := zoo.Spec{InputShape: [3]int{d.C, d.H, d.W}, Classes: d.NumClasses}
	m, err := modelsFrom(ctx).New(c.Model, spec, q, rand.New(rand.NewSource(int64(c.Seed))))
	if err != nil {
		return nil, err
	}
	return nn.Compile(m, nn.CompileConfig{Batch: c.Batch, InputShape: spec.InputShape, Classes: spec.Classes})
}

// initFrom loads the weights of another run (or a state/checkpoint file) by
// parameter name, keeping this model's quantizers fresh: the FP32 → QAT path.
func initFrom(net *nn.Net, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("--init: %w", err)
	}
	if st.IsDir() {
		path = filepath.Join(path, stateFileName)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--init: %w", err)
	}
	if ck, err := train.DecodeCheckpoint(b, path); err == nil {
		b = ck.Model
	}
	if err := net.LoadWeights(b); err != nil {
		return fmt.Errorf("--init %s: %w", path, err)
	}
	return nil
}

func readRunConfig(dir string) (*RunConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, runConfigName))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a qatgo run directory (no %s)", dir, runConfigName)
		}
		return nil, err
	}
	var c RunConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, runConfigName), err)
	}
	return &c, nil
}

func writeRunConfig(dir string, c *RunConfig) error {
	return writeJSONFile(filepath.Join(dir, runConfigName), c)
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// loadRun rebuilds a run's model with its trained state.
func loadRun(ctx context.Context, dir string) (*RunConfig, *nn.Net, *datasets.Dataset, *datasets.Dataset, error) {
	c, err := readRunConfig(dir)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	trainSet, testSet, err := loadData(*c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	net, err := buildNet(ctx, *c, trainSet)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := net.LoadState(filepath.Join(dir, stateFileName)); err != nil {
		net.Close()
		return nil, nil, nil, nil, err
	}
	return c, net, trainSet, testSet, nil
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	runDir := fs.String("run", "", "run directory (from qatgo train)")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line")
	var ie intEvalFlags
	ie.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if ie.model != "" {
		if *runDir != "" {
			fmt.Fprintln(stderr, "qatgo eval: give --run or --model, not both (--compare-run DIR compares a --model with a run)")
			return errUsage
		}
		return runEvalModel(ctx, ie, *asJSON, stdout, stderr)
	}
	if *runDir == "" {
		fmt.Fprintln(stderr, "qatgo eval: --run (or --model) is required")
		return errUsage
	}
	c, net, _, testSet, err := loadRun(ctx, *runDir)
	if err != nil {
		return err
	}
	defer net.Close()
	t0 := time.Now()
	acc, err := train.Evaluate(train.NetModel(net), train.FromDataset(testSet))
	if err != nil {
		return err
	}
	sec := time.Since(t0).Seconds()
	fmt.Fprintf(stdout, "test accuracy %.2f%% on %d %s images (%s %s)\n", 100*acc, testSet.Len(), c.Data, c.Model, c.Quant)
	if *asJSON {
		return printJSON(stdout, map[string]any{"test_accuracy": acc, "images": testSet.Len(), "images_per_sec": float64(testSet.Len()) / sec,
			"model": c.Model, "quant": c.Quant, "run": *runDir, "epochs": c.Epochs, "out": *runDir})
	}
	return nil
}
