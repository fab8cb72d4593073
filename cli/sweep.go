package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/qatgo/qatgo/codebook"
	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/sweep"
)

// sweepSummary is sweep's --json line.
type sweepSummary struct {
	Run      string   `json:"run"`
	Out      string   `json:"out"`
	Points   int      `json:"points"`
	Reused   int      `json:"reused"`
	Computed int      `json:"computed"`
	Failed   int      `json:"failed"`
	Seconds  float64  `json:"seconds"`
	Baseline *float64 `json:"fp32_test_accuracy,omitempty"`
	CSV      string   `json:"csv"`
	Markdown string   `json:"markdown"`
	Plots    []string `json:"plots"`
	Skipped  []string `json:"skipped,omitempty"`
	Shard    string   `json:"shard,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// mergeSweep builds a sweep's tables from the point files under out,
// computing nothing: after shards ran as separate jobs.
func mergeSweep(runDir, out string, plan *sweep.Plan, asJSON bool, stdout io.Writer) error {
	res, err := sweep.Collect(out, plan.Points)
	if err != nil {
		return err
	}
	files, err := sweep.Report{Plan: plan, Results: res}.WriteFiles(out)
	if err != nil {
		return err
	}
	n := len(sweep.Unique(plan.Points))
	sum := sweepSummary{Run: runDir, Out: out, Points: n, Reused: n, CSV: files.CSV, Markdown: files.Markdown,
		Plots: files.Plots, Skipped: plan.Skipped}
	if r, ok := res[plan.Points[0].ID]; ok {
		sum.Baseline = &r.Accuracy
	}
	fmt.Fprintf(stdout, "merged %d points; tables in %s, plots %s\n", n, files.Markdown, strings.Join(files.Plots, ", "))
	if asJSON {
		return printJSON(stdout, sum)
	}
	return nil
}

func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep", stderr)
	runDir := fs.String("run", "", "trained FP32 run directory (from qatgo train); required")
	out := fs.String("out", "", "sweep directory (default RUN/sweep); results are kept per point, so a rerun resumes")
	groups := fs.String("groups", "conv,fc", "layer groups to quantize: conv, fc, all, layer:NAME (comma-separated)")
	methods := fs.String("methods", "all", "methods: linear-pc, linear-pt, kmeans, pow2, fp16, bf16, fp8-e4m3, fp8-e5m2, or all")
	bits := fs.String("bits", "1-8", "bit widths for linear, kmeans and pow2, e.g. 1-8 or 2,4,8 (float formats use their own)")
	finetune := fs.String("finetune", "0", "fine-tuning epochs, e.g. 0,2 (0: none; each N > 0 adds an FP32 control fine-tuned N epochs)")
	sens := fs.Bool("sensitivity", false, "also quantize one layer at a time (per-layer sensitivity, no fine-tuning)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "points evaluated in parallel")
	lr := fs.Float64("lr", 0, "fine-tuning learning rate (default: the run's learning rate / 10)")
	momentum := fs.Float64("momentum", 0.9, "fine-tuning SGD momentum")
	// mean by default: with sum, a 1-bit cluster of 200k weights takes a step
	// 200k times a weight's and collapsed LeNet-5 fc at lr 0.002 in a test.
	rule := fs.String("centroid-rule", "mean", "k-means centroid gradient: mean, or sum (the exact gradient; needs a much smaller --lr)")
	maxSteps := fs.Int("max-steps", 0, "limit each fine-tuning epoch to this many batches (0: all)")
	trainLimit := fs.Int("train-limit", -1, "use only the first N training images for fine-tuning (-1: as the run)")
	testLimit := fs.Int("test-limit", -1, "use only the first N test images (-1: as the run)")
	seed := fs.Uint64("seed", 1, "seed of the sweep (each point's seed derives from it and the point's settings)")
	shard := fs.String("shard", "", "run only shard INDEX/COUNT of the points (0-based; e.g. a batch engine's array index) and write no tables")
	merge := fs.Bool("merge", false, "compute nothing: build the tables from the point files the shards wrote (same flags as the shards)")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runDir == "" {
		fmt.Fprintln(stderr, "qatgo sweep: --run is required")
		return errUsage
	}
	if err := checkNums(intIn("workers", *workers, 1, 1024), nonNegF("lr", *lr), unitF("momentum", *momentum),
		intIn("max-steps", *maxSteps, 0, math.MaxInt32), intIn("train-limit", *trainLimit, -1, math.MaxInt32),
		intIn("test-limit", *testLimit, -1, math.MaxInt32)); err != nil {
		return err
	}
	shardIdx, shardCount := 0, 1
	if *shard != "" {
		if *merge {
			fmt.Fprintln(stderr, "qatgo sweep: give --shard or --merge, not both")
			return errUsage
		}
		var err error
		if shardIdx, shardCount, err = sweep.ParseShard(*shard); err != nil {
			return fmt.Errorf("%w: %v", errFlag, err)
		}
	}
	if *out == "" {
		*out = filepath.Join(*runDir, "sweep")
	}
	var opt sweep.Options
	var err error
	if opt.Groups, err = sweep.ParseGroups(*groups); err != nil {
		return err
	}
	if opt.Methods, err = sweep.ParseMethods(*methods); err != nil {
		return err
	}
	if opt.Bits, err = sweep.ParseBits(*bits); err != nil {
		return err
	}
	if opt.Epochs, err = sweep.ParseEpochs(*finetune); err != nil {
		return err
	}
	opt.Sensitivity, opt.Seed = *sens, *seed
	ft := sweep.Finetune{Momentum: float32(*momentum), MaxStepsPerEpoch: *maxSteps}
	switch *rule {
	case "sum":
		ft.CentroidRule = codebook.Sum
	case "mean":
		ft.CentroidRule = codebook.Mean
	default:
		return fmt.Errorf("sweep: --centroid-rule %q, want sum or mean", *rule)
	}

	env, err := loadSweepRun(ctx, *runDir, *trainLimit, *testLimit, *lr, &ft)
	if err != nil {
		return err
	}
	opt.Fingerprint = env.fingerprint
	trainSet, testSet, newNet, layers := env.trainSet, env.testSet, env.newNet, env.layers
	plan, err := sweep.NewPlan(layers, opt)
	if err != nil {
		return err
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(stderr, "sweep: skipping %s\n", s)
	}
	if *merge {
		return mergeSweep(*runDir, *out, plan, *asJSON, stdout)
	}
	points := plan.Points
	if *shard != "" {
		if points, err = sweep.Shard(plan.Points, shardIdx, shardCount); err != nil {
			return err
		}
	}
	ev := &sweep.NetEvaluator{NewNet: newNet, Train: trainSet, Test: testSet, Finetune: ft}
	runner := &sweep.Runner{Dir: *out, Workers: *workers, Progress: stderr}
	res, st, runErr := runner.Run(ctx, points, ev)
	if res == nil {
		return runErr
	}
	if *shard != "" {
		// Other shards may still be running: the tables wait for --merge.
		sum := sweepSummary{Run: *runDir, Out: *out, Points: st.Points, Reused: st.Reused, Computed: st.Computed,
			Failed: st.Failed, Seconds: st.Seconds, Shard: *shard, Skipped: plan.Skipped}
		fmt.Fprintf(stdout, "shard %s: %d points (%d reused, %d computed, %d failed) in %s; tables: qatgo sweep --merge with the same flags\n",
			*shard, st.Points, st.Reused, st.Computed, st.Failed, filepath.Join(*out, "points"))
		if runErr != nil {
			sum.Error = runErr.Error()
		}
		if *asJSON {
			if err := printJSON(stdout, sum); err != nil {
				return err
			}
		}
		return runErr
	}
	rep := sweep.Report{Plan: plan, Results: res}
	files, err := rep.WriteFiles(*out)
	if err != nil {
		return errors.Join(runErr, err)
	}
	sum := sweepSummary{Run: *runDir, Out: *out, Points: st.Points, Reused: st.Reused, Computed: st.Computed,
		Failed: st.Failed, Seconds: st.Seconds, CSV: files.CSV, Markdown: files.Markdown, Plots: files.Plots, Skipped: plan.Skipped}
	if r, ok := res[plan.Points[0].ID]; ok {
		sum.Baseline = &r.Accuracy
	}
	fmt.Fprintf(stdout, "%d points (%d reused, %d computed, %d failed); tables in %s, plots %s\n",
		st.Points, st.Reused, st.Computed, st.Failed, files.Markdown, strings.Join(files.Plots, ", "))
	if runErr != nil {
		sum.Error = runErr.Error()
	}
	if *asJSON {
		if err := printJSON(stdout, sum); err != nil {
			return err
		}
	}
	return runErr
}

// sweepRun is an FP32 run loaded for sweeps and bit searches.
type sweepRun struct {
	c                 *RunConfig
	trainSet, testSet *datasets.Dataset
	// newNet builds the run's net with its trained state (seed: dropout's).
	newNet func(seed uint64) (*nn.Net, error)
	layers []sweep.Layer
	infos  []nn.LayerInfo // the net's layers, for weight counts
	// fingerprint hashes everything outside a plan that changes a result,
	// so that results of another model or setting never match.
	fingerprint string
}

// loadSweepRun loads the FP32 run dir with the given limits (-1: the run's)
// and sets ft.LR to lr, or to the run's learning rate / 10 when lr is 0.
func loadSweepRun(ctx context.Context, runDir string, trainLimit, testLimit int, lr float64, ft *sweep.Finetune) (*sweepRun, error) {
	c, err := readRunConfig(runDir)
	if err != nil {
		return nil, err
	}
	if q := strings.ToLower(c.Quant); q != "fp32" && q != "" {
		return nil, fmt.Errorf("run %s was trained with --quant %s; sweeps and searches start from an FP32 run", runDir, c.Quant)
	}
	if trainLimit >= 0 {
		c.TrainLimit = trainLimit
	}
	if testLimit >= 0 {
		c.TestLimit = testLimit
	}
	ft.LR = float32(lr)
	if lr == 0 {
		ft.LR = float32(c.LR / 10)
	}
	statePath := filepath.Join(runDir, stateFileName)
	state, err := os.ReadFile(statePath)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	r := &sweepRun{c: c}
	if r.trainSet, r.testSet, err = loadData(*c); err != nil {
		return nil, err
	}
	r.newNet = func(seed uint64) (*nn.Net, error) {
		cc := *c
		cc.Seed = seed // only dropout is random once the trained state is loaded
		net, err := buildNet(ctx, cc, r.trainSet)
		if err != nil {
			return nil, err
		}
		if err := net.UnmarshalState(state); err != nil {
			net.Close()
			return nil, fmt.Errorf("%s: %w", statePath, err)
		}
		return net, nil
	}
	probe, err := r.newNet(0)
	if err != nil {
		return nil, err
	}
	defer probe.Close()
	if r.layers, err = sweep.ModelLayers(probe); err != nil {
		return nil, err
	}
	r.infos = probe.Layers()
	h := sha256.New()
	fmt.Fprintf(h, "state %x\nmodel %s data %s train %d test %d batch %d\nft lr %g mom %g rule %d steps %d\n",
		sha256.Sum256(state), c.Model, c.Data, c.TrainLimit, c.TestLimit, c.Batch, ft.LR, ft.Momentum, ft.CentroidRule, ft.MaxStepsPerEpoch)
	r.fingerprint = hex.EncodeToString(h.Sum(nil))
	return r, nil
}
