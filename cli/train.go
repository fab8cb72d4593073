package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/internal/rundir"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
	"github.com/qatgo/qatgo/zoo"
)

// RunConfig is what a run directory records about how its model was built
// and trained (config.json), so eval, export and sweeps can rebuild it.
type RunConfig struct {
	Model       string  `json:"model"`
	ModelFile   string  `json:"model_file,omitempty"` // --model-file: a float ONNX model (absolute path)
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
	// Recorded since the run lock (older runs read as the defaults).
	CalibImages     int `json:"calib_images"`
	FreezeObservers int `json:"freeze_observers_epoch"`
	FreezeBN        int `json:"freeze_bn_epoch"`

	note string // from validate: a line for the user, not recorded
}

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

// registerTrainFlags binds the flags that define a run to c's fields (and
// sets c to their defaults); models names the registry's models.
func registerTrainFlags(fs *flag.FlagSet, c *RunConfig, models []string) {
	fs.StringVar(&c.Model, "model", "lenet5", "model: "+strings.Join(models, ", "))
	fs.StringVar(&c.ModelFile, "model-file", "", "float ONNX model to import and train instead of --model (e.g. exported by torch.onnx.export; input shape and classes must match the dataset)")
	fs.StringVar(&c.Data, "data", "mnist", "dataset: mnist, fashion-mnist or synthetic")
	fs.StringVar(&c.DataDir, "data-dir", "", "dataset directory (default: located automatically)")
	fs.StringVar(&c.Quant, "quant", "fp32", "quantization spec: fp32, w8a8, w4a8, w2a8, ... with options, e.g. w4a8,per-tensor (see qconfig.Parse); integer activations take 1..8 bits")
	fs.StringVar(&c.QuantFile, "quant-config", "", "JSON file of per-layer overrides for mixed precision")
	fs.IntVar(&c.Batch, "batch", 64, "batch size (≥ 1)")
	fs.IntVar(&c.Epochs, "epochs", 4, "epochs (≥ 1)")
	fs.StringVar(&c.Optimizer, "optimizer", "sgd", "sgd, adam or adamw")
	fs.Float64Var(&c.LR, "lr", 0.01, "learning rate (> 0)")
	fs.Float64Var(&c.Momentum, "momentum", 0.9, "SGD momentum, in [0, 1)")
	fs.Float64Var(&c.WeightDecay, "weight-decay", 5e-4, "weight decay (weights only; ≥ 0)")
	fs.StringVar(&c.Schedule, "schedule", "constant", "learning-rate schedule: constant, step:EVERY:GAMMA, cosine[:MIN]")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed for initialisation and shuffling")
	fs.StringVar(&c.Init, "init", "", "start from this run directory's (or checkpoint file's) weights, e.g. an FP32 run for QAT")
	fs.BoolVar(&c.PTQ, "ptq", false, "post-training quantization: calibrate observers on training data, no gradient steps")
	fs.IntVar(&c.TrainLimit, "train-limit", 0, "use only the first N training images (0: all)")
	fs.IntVar(&c.TestLimit, "test-limit", 0, "use only the first N test images (0: all)")
	fs.IntVar(&c.CalibImages, "calib-images", 2048, "images used by --ptq (≥ 1)")
	fs.IntVar(&c.FreezeObservers, "freeze-observers-epoch", -1, "stop updating quantization ranges from this epoch (0-based; -1 never)")
	fs.IntVar(&c.FreezeBN, "freeze-bn-epoch", -1, "freeze BatchNorm statistics from this epoch (0-based; -1 never)")
}

// nonDefiningFlags may differ between a run and its --resume: they say where
// things are or how to report, not what the run computes.
var nonDefiningFlags = map[string]bool{"data-dir": true, "out": true, "resume": true, "overwrite": true, "json": true}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", stderr)
	var c RunConfig
	registerTrainFlags(fs, &c, modelsFrom(ctx).Names())
	out := fs.String("out", "", "run directory to write (config, checkpoints, results); required; must be new or empty unless --resume or --overwrite")
	resume := fs.Bool("resume", false, "continue the run in --out from its last checkpoint (flags that define the run must not change)")
	overwrite := fs.Bool("overwrite", false, "replace the run in --out (its files, exports and sweeps are deleted)")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "qatgo train: --out is required")
		return errUsage
	}
	if c.ModelFile != "" {
		// Recorded absolute (and compared so by --resume): later commands
		// run from other directories.
		abs, err := filepath.Abs(c.ModelFile)
		if err != nil {
			return fmt.Errorf("--model-file: %w", err)
		}
		if err := fs.Set("model-file", abs); err != nil {
			return err
		}
	}
	if *resume && *overwrite {
		fmt.Fprintln(stderr, "qatgo train: give --resume or --overwrite, not both")
		return errUsage
	}
	var lock *rundir.Lock
	defer func() { lock.Release() }()
	if *resume {
		if _, err := os.Stat(filepath.Join(*out, runConfigName)); err != nil {
			return fmt.Errorf("--resume: %s is not a qatgo run directory (no %s)", *out, runConfigName)
		}
		var err error
		if lock, err = rundir.Acquire(*out); err != nil {
			return err
		}
		// The run's own config wins: a resumed run must be the same run.
		prev, err := readRunConfig(*out)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		if err := sameRun(fs, prev); err != nil {
			return err
		}
		dataDir, dataDirSet := c.DataDir, flagSet(fs, "data-dir")
		c = *prev
		if dataDirSet {
			c.DataDir = dataDir
		}
	}
	if c.ModelFile != "" && !*resume {
		c.Model = modelFileName(c.ModelFile)
	}
	if err := c.validate(); err != nil {
		return err
	}
	if !*resume {
		if err := checkNewRun(*out, *overwrite); err != nil {
			return err
		}
	}
	if c.note != "" {
		fmt.Fprintln(stderr, c.note)
	}
	// A soft memory limit that follows the live heap (heapcap.go);
	// GOMEMLIMIT overrides it.
	hc := newHeapCap(os.Getenv("GOMEMLIMIT") != "")
	defer hc.restore()
	t0 := time.Now()
	// Everything that can fail on bad input runs before the directory is
	// created.
	trainSet, testSet, err := loadData(c)
	if err != nil {
		return err
	}
	if !c.PTQ && trainSet.Len() < c.Batch {
		return flagErr("--batch %d: the training set has only %d images", c.Batch, trainSet.Len())
	}
	net, err := buildNet(ctx, c, trainSet)
	if err != nil {
		return err
	}
	defer net.Close()
	if !*resume {
		if c.Init != "" {
			if err := initFrom(net, c.Init); err != nil {
				return fmt.Errorf("%w: %v", errFlag, err)
			}
		}
		if lock, err = rundir.Acquire(*out); err != nil {
			return err
		}
		// Again under the lock: another train may have filled it meanwhile.
		if err := checkNewRun(*out, *overwrite); err != nil {
			return err
		}
		if *overwrite {
			if err := lock.Clear(); err != nil {
				return err
			}
		}
	}
	for _, n := range lock.Removed {
		fmt.Fprintf(stderr, "removed %s (left by an interrupted write)\n", filepath.Join(*out, n))
	}
	statePath := filepath.Join(*out, stateFileName)
	_, ckErr := os.Stat(filepath.Join(*out, train.CheckpointName))
	_, stErr := os.Stat(statePath)
	// A PTQ run has no checkpoint: its model.state is written once,
	// calibrated, and a resume keeps it.
	ptqDone := *resume && c.PTQ && stErr == nil
	// Without a checkpoint a resumed run starts where a fresh one does,
	// from --init when given.
	if *resume && c.Init != "" && !ptqDone && errors.Is(ckErr, os.ErrNotExist) {
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
		if ptqDone {
			fmt.Fprintf(stderr, "%s is a finished PTQ run; evaluating its calibrated model\n", *out)
			if err := net.LoadState(statePath); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(stderr, "calibrating %s (%s) on %d images\n", c.Model, c.Quant, min(c.CalibImages, trainSet.Len()))
			if err := train.Calibrate(model, train.FromDataset(trainSet), c.CalibImages); err != nil {
				return err
			}
		}
		acc, err := train.Evaluate(model, train.FromDataset(testSet))
		if err != nil {
			return err
		}
		res = &train.Result{TestAcc: acc}
		if !ptqDone {
			if err := net.SaveState(statePath); err != nil {
				return err
			}
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
		if c.FreezeObservers >= 0 {
			cfg.Callbacks = append(cfg.Callbacks, train.FreezeObserversAt(c.FreezeObservers))
		}
		if c.FreezeBN >= 0 {
			cfg.Callbacks = append(cfg.Callbacks, train.FreezeBNAt(c.FreezeBN))
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
		if err := net.SaveState(statePath); err != nil {
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

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// sameRun refuses a --resume whose command line sets a defining flag to a
// value other than the run's (it would silently continue a different run).
func sameRun(fs *flag.FlagSet, prev *RunConfig) error {
	var p RunConfig
	pfs := flag.NewFlagSet("prev", flag.ContinueOnError)
	registerTrainFlags(pfs, &p, nil)
	p = *prev // after registering, which writes the defaults
	var changed []string
	fs.Visit(func(f *flag.Flag) {
		pf := pfs.Lookup(f.Name)
		if nonDefiningFlags[f.Name] || pf == nil {
			return
		}
		if got, was := f.Value.String(), pf.Value.String(); got != was {
			changed = append(changed, fmt.Sprintf("--%s %s (the run has %s)", f.Name, got, orNone(was)))
		}
	})
	if len(changed) > 0 {
		return fmt.Errorf("--resume: %s would change the run; resume without them, or start a new run (another --out, or --overwrite)", strings.Join(changed, ", "))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// checkNewRun refuses to start a run in a directory that holds anything:
// a run (unless overwrite) or foreign files (always). Temporary files of
// interrupted writes do not count.
func checkNewRun(dir string, overwrite bool) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("--out %s is a file, not a directory", dir)
	}
	names, err := rundir.Entries(dir)
	if err != nil {
		return err
	}
	n := 0
	for _, name := range names {
		if !atomicfile.IsTemp(name) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, runConfigName)); err != nil {
		return fmt.Errorf("--out %s is not empty and holds no qatgo run; choose a new or empty directory", dir)
	}
	if !overwrite {
		return fmt.Errorf("--out %s already holds a run; use --resume to continue it or --overwrite to replace it", dir)
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
	m, spec, err := runModel(ctx, c, d)
	if err != nil {
		return nil, err
	}
	return nn.Compile(m, nn.CompileConfig{Batch: c.Batch, InputShape: spec.InputShape, Classes: spec.Classes})
}

// runModel constructs the model a run config describes (its --quant spec and
// --quant-config overrides) for the shape and classes of dataset d.
func runModel(ctx context.Context, c RunConfig, d *datasets.Dataset) (*nn.Model, zoo.Spec, error) {
	q, err := qconfig.Parse(c.Quant)
	if err != nil {
		return nil, zoo.Spec{}, err
	}
	if c.QuantFile != "" {
		if err := loadOverrides(&q, c.QuantFile); err != nil {
			return nil, zoo.Spec{}, err
		}
	}
	spec := zoo.Spec{InputShape: [3]int{d.C, d.H, d.W}, Classes: d.NumClasses}
	m, err := newModel(ctx, c, spec, q)
	return m, spec, err
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
	// Either file kind is refused from its magic, before its body is read.
	b, err := nn.ReadStateFile(path)
	if errors.Is(err, nn.ErrState) {
		var ck *train.Checkpoint
		if ck, err = train.ReadCheckpoint(path); err == nil {
			b = ck.Model
		} else {
			err = fmt.Errorf("not a qatgo model state or checkpoint")
		}
	}
	if err != nil {
		return fmt.Errorf("--init %s: %w", path, err)
	}
	if err := net.LoadWeights(b); err != nil {
		return fmt.Errorf("--init %s: %w", path, err)
	}
	return nil
}

// runID identifies the state of a run: a hash of the flags that define it
// and of its trained model. Files derived from the run (exports) record it,
// so that a retrained run is not mistaken for the one they came from.
func runID(dir string, c *RunConfig) (string, error) {
	st, err := os.ReadFile(filepath.Join(dir, stateFileName))
	if err != nil {
		return "", err
	}
	d := *c
	d.DataDir = "" // where the data is does not change the run
	cb, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(cb)
	h.Write(st)
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// maxRunConfig bounds config.json; a real one is under 1 KiB.
const maxRunConfig = 1 << 20

func readRunConfig(dir string) (*RunConfig, error) {
	path := filepath.Join(dir, runConfigName)
	b, err := readSmallFile(path, maxRunConfig)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a qatgo run directory (no %s)", dir, runConfigName)
		}
		return nil, err
	}
	c, err := parseRunConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// parseRunConfig decodes config.json; fields an older qatgo did not record
// take their flag defaults.
func parseRunConfig(b []byte) (*RunConfig, error) {
	c := RunConfig{CalibImages: 2048, FreezeObservers: -1, FreezeBN: -1}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("not a run config: %v", err)
	}
	return &c, nil
}

// readSmallFile reads a file that must be at most limit bytes, without
// reading more than that.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes; not a qatgo file", path, limit)
	}
	return b, nil
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
	// The integer model's flags mean nothing for a run: refuse them
	// rather than ignore them.
	var modelOnly []string
	fs.Visit(func(fl *flag.Flag) {
		if ie.owns(fl.Name) {
			modelOnly = append(modelOnly, "--"+fl.Name)
		}
	})
	if len(modelOnly) > 0 {
		fmt.Fprintf(stderr, "qatgo eval: %s apply to --model (an exported integer model), not to --run\n", strings.Join(modelOnly, ", "))
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
