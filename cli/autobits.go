package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/qatgo/qatgo/codebook"
	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/mixedprec"
	"github.com/qatgo/qatgo/sweep"
)

// autobitsChoice is one budget's solution in autobits' --json line.
type autobitsChoice struct {
	Budget      mixedprec.Budget `json:"budget"`
	WeightBytes float64          `json:"weight_bytes"`
	Bits        map[string]int   `json:"bits"`
	Predicted   float64          `json:"predicted_loss"`
	Noise       float64          `json:"weight_noise"` // Σ‖w − Q_b(w)‖² of the picks
	Exact       bool             `json:"exact"`
	QuantConfig string           `json:"quant_config"`
	Run         string           `json:"run,omitempty"`
}

// autobitsSummary is autobits' --json line.
type autobitsSummary struct {
	Run         string                 `json:"run"`
	Out         string                 `json:"out"`
	FP32        float64                `json:"fp32_test_accuracy,omitempty"`
	FP32Loss    float64                `json:"fp32_test_loss,omitempty"`
	Measure     string                 `json:"sensitivity_measure"`  // "loss" or "accuracy"
	SensData    string                 `json:"sensitivity_data"`     // "test" or "train:N" (--sens-data)
	Measured    map[string][]float64   `json:"sensitivity_measured"` // loss per layer as measured (below the float model: 0), one per --bits
	Sensitivity map[string][]float64   `json:"sensitivity"`          // the knapsack's: Measured made monotone in the bits
	Noise       map[string][]float64   `json:"weight_noise"`         // Σ‖w − Q_b(w)‖² per layer, one per --bits
	Tolerance   float64                `json:"tie_tolerance"`        // mixedprec.Options.Tolerance
	Bits        []int                  `json:"bits"`
	Choices     []autobitsChoice       `json:"choices"`
	Curve       []mixedprec.CurvePoint `json:"curve"`
	CSV         string                 `json:"csv"`
	Plot        string                 `json:"plot"`
	Shard       string                 `json:"shard,omitempty"`
	Points      *sweep.RunStats        `json:"sensitivity_points,omitempty"`
}

func runAutobits(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("autobits", stderr)
	runDir := fs.String("run", "", "trained FP32 run directory; required")
	out := fs.String("out", "", "output directory (default RUN/autobits); sensitivity points and fine-tuning runs are kept, so a rerun resumes")
	bitsFlag := fs.String("bits", "2,3,4,5,6,8", "weight bit widths a layer may take")
	actBits := fs.Int("act-bits", 8, "activation bits of the fine-tuned models (32: float activations)")
	budgets := fs.String("budgets", "w2,w3,35%", "weight-size budgets: wN (every weight at N bits), P% (of the 8-bit size), or bytes")
	epochs := fs.Int("epochs", 1, "QAT fine-tuning epochs of each chosen configuration (0: calibrate only, PTQ)")
	lr := fs.Float64("lr", 0, "fine-tuning learning rate (default: the run's / 10)")
	uniform := fs.Bool("uniform", true, "also fine-tune uniform configurations at every --bits width, for the curve beside the mixed one")
	trainLimit := fs.Int("train-limit", -1, "use only the first N training images (-1: as the run)")
	testLimit := fs.Int("test-limit", -1, "use only the first N test images (-1: as the run)")
	measure := fs.String("sensitivity", "loss", "a layer's sensitivity at b bits: loss (the increase of the mean cross-entropy with only that layer quantized) or accuracy (the drop of accuracy), on the --sens-data images")
	sensData := fs.String("sens-data", "train", "images the sensitivities are measured on: train (the last 10,000 training images of the run, or all of them if fewer), train:N (the last N), or test (the test images, which lets the search see the images its accuracy is reported on); accuracies reported are on the test images either way")
	tie := fs.Float64("tie", 0, "solutions of equal predicted loss are ranked by weight quantization noise Σ‖w − Q_b(w)‖²; with a fraction > 0, so are those whose predictions differ by less than that fraction of the all-lowest-bits prediction")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "sensitivity points evaluated in parallel")
	shard := fs.String("shard", "", "compute only shard INDEX/COUNT of the sensitivity points and stop (a later run without --shard reuses them)")
	searchOnly := fs.Bool("search-only", false, "print the chosen configurations (and write their --quant-config files) and stop: no PTQ points, no fine-tuning")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runDir == "" {
		fmt.Fprintln(stderr, "qatgo autobits: --run is required")
		return errUsage
	}
	if *out == "" {
		*out = filepath.Join(*runDir, "autobits")
	}
	bits, err := sweep.ParseBits(*bitsFlag)
	if err != nil {
		return fmt.Errorf("%w: %v", errFlag, err)
	}
	if *actBits < 1 || *actBits > 16 && *actBits != 32 {
		return flagErr("--act-bits %d: want 1..16 or 32", *actBits)
	}
	if *epochs < 0 {
		return flagErr("--epochs %d: want ≥ 0", *epochs)
	}
	if *measure != sensLoss && *measure != sensAccuracy {
		return flagErr("--sensitivity %q: want %s or %s", *measure, sensLoss, sensAccuracy)
	}
	if !(*tie >= 0 && *tie <= 1) {
		return flagErr("--tie %v: want a fraction in [0, 1]", *tie)
	}
	heldOut, err := parseSensData(*sensData)
	if err != nil {
		return err
	}
	// Plain "train" is resolved against the run's training set below.
	ft := sweep.Finetune{Momentum: 0.9, CentroidRule: codebook.Mean}
	env, err := loadSweepRun(ctx, *runDir, *trainLimit, *testLimit, *lr, &ft)
	if err != nil {
		return err
	}
	ev := &sweep.NetEvaluator{NewNet: env.newNet, Train: env.trainSet, Test: env.testSet, Finetune: ft}
	// Sensitivity: the accuracy with one layer's weights at b bits (linear
	// per-channel min-max, the grid QAT starts from), all else float; and
	// every layer at b bits for the uniform curve. opt's points are
	// evaluated on the test images; with train:N the sensitivities are
	// evaluated by sensEv on training images instead, under their own
	// fingerprint, so that no point file mixes the two.
	opt := sweep.Options{Groups: []string{"all"}, Methods: []sweep.Method{sweep.LinearPC}, Bits: bits, Epochs: []int{0},
		Sensitivity: true, Seed: 1, Fingerprint: env.fingerprint}
	sensOpt, sensEv := opt, ev
	if heldOut != 0 {
		n := env.trainSet.Len()
		if heldOut < 0 {
			heldOut = min(defaultSensImages, n)
			*sensData = fmt.Sprintf("train:%d", heldOut)
		}
		if heldOut > n {
			return flagErr("--sens-data train:%d: the run has %d training images", heldOut, n)
		}
		_, held, err := env.trainSet.Split(n - heldOut)
		if err != nil {
			return err
		}
		sensEv = &sweep.NetEvaluator{NewNet: env.newNet, Train: env.trainSet, Test: held, Finetune: ft}
		sensOpt.Fingerprint = fmt.Sprintf("%s|sensitivity on the last %d of %d training images", env.fingerprint, heldOut, n)
	}
	plan, err := sweep.NewPlan(env.layers, sensOpt)
	if err != nil {
		return err
	}
	points := plan.Points
	if *shard != "" {
		i, n, err := sweep.ParseShard(*shard)
		if err != nil {
			return fmt.Errorf("%w: %v", errFlag, err)
		}
		if points, err = sweep.Shard(points, i, n); err != nil {
			return err
		}
	}
	sensDir := filepath.Join(*out, "sensitivity")
	runner := &sweep.Runner{Dir: sensDir, Workers: *workers, Progress: stderr}
	if *measure == sensLoss {
		runner.Accept = needTestLoss
	}
	res, st, err := runner.Run(ctx, points, sensEv)
	if err != nil {
		return err
	}
	if *shard != "" {
		fmt.Fprintf(stdout, "shard %s: %d sensitivity points (%d reused, %d computed) in %s; then run autobits without --shard\n",
			*shard, st.Points, st.Reused, st.Computed, sensDir)
		if *asJSON {
			return printJSON(stdout, autobitsSummary{Run: *runDir, Out: *out, Shard: *shard, Points: &st})
		}
		return nil
	}
	runner.Accept = nil               // the points of the chosen configurations need only their accuracy
	baseRes := res[plan.Points[0].ID] // the float model on the sensitivity images
	// What is reported (the float model, uniform PTQ) is on the test images:
	// the plan's own points, or with train:N the same points under opt.
	report, repPlan := res, plan
	if heldOut > 0 && !*searchOnly {
		ropt := opt
		ropt.Sensitivity = false
		if repPlan, err = sweep.NewPlan(env.layers, ropt); err != nil {
			return err
		}
		if report, _, err = runner.Run(ctx, repPlan.Points, ev); err != nil {
			return err
		}
	}
	base := report[repPlan.Points[0].ID].Accuracy
	if heldOut > 0 && *searchOnly {
		base = 0 // nothing was evaluated on the test images
	}
	result := func(kind sweep.Kind, group string, b int) (sweep.PointResult, bool) {
		pl, rs := plan, res
		if kind != sweep.Sensitivity {
			pl, rs = repPlan, report
		}
		for _, p := range pl.Points {
			if p.Kind == kind && p.Group == group && p.Bits == b {
				r, ok := rs[p.ID]
				return r, ok
			}
		}
		return sweep.PointResult{}, false
	}
	counts := make([]int64, len(env.layers))
	for i, l := range env.layers {
		for _, li := range env.infos {
			if li.Name == l.Name {
				counts[i] = int64(len(li.Weight))
			}
		}
		if counts[i] == 0 {
			return fmt.Errorf("autobits: layer %s: no weights found", l.Name)
		}
	}
	sum := autobitsSummary{Run: *runDir, Out: *out, FP32: base, Measure: *measure, SensData: *sensData, Bits: bits,
		Measured: map[string][]float64{}, Sensitivity: map[string][]float64{}, Noise: map[string][]float64{}, Points: &st}
	if r := report[repPlan.Points[0].ID]; r.TestLoss != nil && base != 0 {
		sum.FP32Loss = *r.TestLoss
	}
	noise, err := weightNoise(env, bits)
	if err != nil {
		return err
	}
	knap := make([]mixedprec.Layer, len(env.layers))
	for i, l := range env.layers {
		knap[i].Name = l.Name
		for bi, b := range bits {
			r, ok := result(sweep.Sensitivity, "layer:"+l.Name, b)
			if !ok {
				return fmt.Errorf("autobits: no sensitivity result for %s at %d bits", l.Name, b)
			}
			loss, err := sensitivity(*measure, baseRes, r)
			if err != nil {
				return fmt.Errorf("autobits: %s at %d bits: %w", l.Name, b, err)
			}
			nz := noise[l.Name][bi]
			knap[i].Choices = append(knap[i].Choices, mixedprec.Choice{Bits: b, Cost: counts[i] * int64(b), Loss: loss, Noise: nz})
			sum.Measured[l.Name] = append(sum.Measured[l.Name], loss)
			sum.Noise[l.Name] = append(sum.Noise[l.Name], nz)
		}
	}
	knap = mixedprec.Monotone(knap)
	var worst float64 // the predicted loss with every layer at its lowest width
	for _, l := range knap {
		var most float64
		for _, c := range l.Choices {
			sum.Sensitivity[l.Name] = append(sum.Sensitivity[l.Name], c.Loss)
			most = max(most, c.Loss)
		}
		worst += most
	}
	sum.Tolerance = *tie * worst
	bl, err := mixedprec.ParseBudgets(*budgets, counts)
	if err != nil {
		return fmt.Errorf("%w: %v", errFlag, err)
	}
	if err := os.MkdirAll(filepath.Join(*out, "runs"), 0o755); err != nil {
		return err
	}
	ftLR := float64(ft.LR)
	var curve []mixedprec.CurvePoint
	var extra []sweep.Point
	for _, bud := range bl {
		sol, err := mixedprec.Solve(knap, bud.Bits, mixedprec.Options{Tolerance: sum.Tolerance})
		if err != nil {
			return fmt.Errorf("autobits: budget %s: %w", bud.Label, err)
		}
		ch := autobitsChoice{Budget: bud, Bits: map[string]int{}, Predicted: sol.Loss, Noise: sol.Noise, Exact: sol.Exact,
			WeightBytes: float64(sol.Cost) / 8}
		overrides := map[string]map[string]int{}
		var desc []string
		var assign []sweep.Assignment
		for i, l := range env.layers {
			b := knap[i].Choices[sol.Pick[i]].Bits
			ch.Bits[l.Name] = b
			overrides[l.Name] = map[string]int{"weight_bits": b}
			desc = append(desc, fmt.Sprintf("%s:%d", l.Name, b))
			assign = append(assign, sweep.Assignment{Layer: l.Name, Kind: l.Kind, Method: sweep.LinearPC, Bits: b})
		}
		label := safeLabel(bud.Label)
		ch.QuantConfig = filepath.Join(*out, "mixed-"+label+".quant.json")
		if err := writeJSONFile(ch.QuantConfig, overrides); err != nil {
			return err
		}
		pt, err := sweep.NewPoint(sweep.Point{Kind: sweep.GroupPoint, Group: "mixed-" + label, Method: sweep.LinearPC, Assign: assign}, opt)
		if err != nil {
			return err
		}
		extra = append(extra, pt)
		sum.Choices = append(sum.Choices, ch)
		curve = append(curve, mixedprec.CurvePoint{Curve: "mixed", Label: bud.Label, WeightBytes: ch.WeightBytes,
			Bits: strings.Join(desc, " "), PredictedLoss: sol.Loss})
	}
	if *searchOnly {
		fmt.Fprintf(stdout, "sensitivity: %s on %s images, tie tolerance %.3g\n%-6s %10s %9s %12s  %s\n", *measure, *sensData, sum.Tolerance, "budget", "bytes", "pred.loss", "weight noise", "bits")
		for i, ch := range sum.Choices {
			fmt.Fprintf(stdout, "%-6s %10.0f %9.4f %12.4g  %s\n", ch.Budget.Label, ch.WeightBytes, ch.Predicted, ch.Noise, curve[i].Bits)
		}
		if *asJSON {
			return printJSON(stdout, sum)
		}
		return nil
	}
	// The chosen configurations with weights quantized and nothing trained:
	// points like the sensitivity ones, stored beside them.
	mres, _, err := runner.Run(ctx, extra, ev)
	if err != nil {
		return err
	}
	for i := range extra {
		if r, ok := mres[extra[i].ID]; ok {
			a := r.Accuracy
			curve[i].PTQAccuracy = &a
		}
	}
	if *uniform {
		for _, b := range bits {
			var total int64
			var pred float64
			var desc []string
			for i, l := range env.layers {
				total += counts[i] * int64(b)
				for _, c := range knap[i].Choices {
					if c.Bits == b {
						pred += c.Loss
					}
				}
				desc = append(desc, fmt.Sprintf("%s:%d", l.Name, b))
			}
			cp := mixedprec.CurvePoint{Curve: "uniform", Label: fmt.Sprintf("w%d", b), WeightBytes: float64(total) / 8,
				Bits: strings.Join(desc, " "), PredictedLoss: pred}
			if r, ok := result(sweep.GroupPoint, "all", b); ok {
				a := r.Accuracy
				cp.PTQAccuracy = &a
			}
			curve = append(curve, cp)
		}
	}
	// QAT fine-tuning of every configuration on the curve (once per
	// distinct configuration: a budget of uniform size may choose it).
	done := map[string]float64{}
	dirs := map[string]string{}
	for i := range curve {
		cp := &curve[i]
		spec, qc := fmt.Sprintf("w8a%d", *actBits), ""
		name := cp.Curve + "-" + safeLabel(cp.Label)
		if cp.Curve == "mixed" {
			qc = sum.Choices[i].QuantConfig
		} else {
			b, _ := strconv.Atoi(strings.TrimPrefix(cp.Label, "w"))
			spec = fmt.Sprintf("w%da%d", b, *actBits)
		}
		// The name carries a hash of what defines the run, so that a rerun
		// whose choice or settings changed does not reuse a stale run.
		h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d|%g|%s", cp.Bits, spec, *epochs, ftLR, env.fingerprint)))
		dir := filepath.Join(*out, "runs", name+"-"+hex.EncodeToString(h[:4]))
		a, seen := done[cp.Bits]
		if !seen {
			if a, err = fineTune(ctx, env.c, *runDir, dir, spec, qc, *epochs, ftLR, stderr); err != nil {
				return fmt.Errorf("autobits: fine-tuning %s: %w", name, err)
			}
			done[cp.Bits], dirs[cp.Bits] = a, dir
		}
		dir = dirs[cp.Bits]
		cp.QATAccuracy = &a
		if cp.Curve == "mixed" {
			sum.Choices[i].Run = dir
		}
	}
	sum.Curve = curve
	sum.CSV, sum.Plot = filepath.Join(*out, "pareto.csv"), filepath.Join(*out, "pareto.png")
	var b bytes.Buffer
	if err := mixedprec.WriteCSV(&b, curve); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(sum.CSV, b.Bytes(), 0o644); err != nil {
		return err
	}
	img, err := mixedprec.PlotPNG(curve, base, fmt.Sprintf("%s: mixed vs uniform weight bits (a%d, +%d ep QAT)", env.c.Model, *actBits, *epochs))
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(sum.Plot, img, 0o644); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(*out, "autobits.json"), sum); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "FP32 %.2f%% (loss %.4f); sensitivity: %s on %s images, tie tolerance %.3g\n", 100*base, sum.FP32Loss, *measure, *sensData, sum.Tolerance)
	fmt.Fprintf(stdout, "%-8s %-6s %10s %9s %8s %8s  %s\n", "curve", "budget", "bytes", "pred.loss", "PTQ %", "QAT %", "bits")
	for _, cp := range curve {
		fmt.Fprintf(stdout, "%-8s %-6s %10.0f %9.4f %8s %8s  %s\n", cp.Curve, cp.Label, cp.WeightBytes, cp.PredictedLoss,
			pctOrDash(cp.PTQAccuracy), pctOrDash(cp.QATAccuracy), cp.Bits)
	}
	for _, ch := range sum.Choices {
		fmt.Fprintf(stdout, "budget %s: --quant-config %s, fine-tuned run %s\n", ch.Budget.Label, ch.QuantConfig, ch.Run)
	}
	fmt.Fprintf(stdout, "curve %s, %s\n", sum.CSV, sum.Plot)
	if *asJSON {
		return printJSON(stdout, sum)
	}
	return nil
}

// defaultSensImages is how many training images --sens-data train uses.
const defaultSensImages = 10000

// parseSensData reads --sens-data: 0 for the test images, N > 0 for the
// last N training images, −1 for the default count.
func parseSensData(v string) (int, error) {
	switch v {
	case "test":
		return 0, nil
	case "train":
		return -1, nil
	}
	if n, ok := strings.CutPrefix(v, "train:"); ok {
		if k, err := strconv.Atoi(n); err == nil && k > 0 {
			return k, nil
		}
	}
	return 0, flagErr("--sens-data %q: want train, train:N with N > 0 training images, or test", v)
}

// The sensitivity measures of --sensitivity.
const (
	sensLoss     = "loss"
	sensAccuracy = "accuracy"
)

// errNoTestLoss marks a sensitivity point stored without its test loss (by
// a qatgo from before it was recorded).
var errNoTestLoss = errors.New("no test loss recorded (an older point file)")

// needTestLoss is the Runner.Accept of loss-based searches: a point file
// without the loss is recomputed rather than read as a zero loss.
func needTestLoss(r sweep.PointResult) error {
	if r.TestLoss == nil {
		return errNoTestLoss
	}
	return nil
}

// sensitivity is the knapsack loss of a layer quantized alone (r) against
// the float model (base): the increase of the test cross-entropy, or the
// drop of the test accuracy. A value below the float model's is noise, not
// a gain, and counts as 0.
func sensitivity(measure string, base, r sweep.PointResult) (float64, error) {
	if measure == sensAccuracy {
		return max(base.Accuracy-r.Accuracy, 0), nil
	}
	if base.TestLoss == nil || r.TestLoss == nil {
		return 0, errNoTestLoss
	}
	return max(*r.TestLoss-*base.TestLoss, 0), nil
}

// weightNoise returns Σ‖w − Q_b(w)‖² per layer, one value per bits, on
// the grid of the sensitivity points (linear per channel, min-max).
func weightNoise(env *sweepRun, bits []int) (map[string][]float64, error) {
	net, err := env.newNet(0)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	out := map[string][]float64{}
	for _, b := range bits {
		nz, err := sweep.WeightNoise(net, sweep.LinearPC, b)
		if err != nil {
			return nil, fmt.Errorf("autobits: %w", err)
		}
		for _, l := range env.layers {
			v, ok := nz[l.Name]
			if !ok {
				return nil, fmt.Errorf("autobits: no weights found for layer %s", l.Name)
			}
			out[l.Name] = append(out[l.Name], v)
		}
	}
	return out, nil
}

func pctOrDash(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", 100**p)
}

// safeLabel makes a budget label a file-name part ("35%" → "35pct").
func safeLabel(s string) string {
	return strings.NewReplacer("%", "pct", "/", "_", " ", "").Replace(s)
}

// fineTune QAT-fine-tunes (or, with epochs 0, calibrates) the FP32 run
// fp's model under spec and the overrides file qc into dir, and returns its
// test accuracy; a finished run in dir is reused, an interrupted one resumed.
func fineTune(ctx context.Context, c *RunConfig, fp, dir, spec, qc string, epochs int, lr float64, progress io.Writer) (float64, error) {
	if b, err := os.ReadFile(filepath.Join(dir, "result.json")); err == nil {
		var r trainSummary
		if err := json.Unmarshal(b, &r); err == nil && r.Quant == spec {
			return r.TestAcc, nil
		}
	}
	args := []string{"--model", c.Model, "--data", c.Data, "--quant", spec, "--init", fp, "--batch", strconv.Itoa(c.Batch),
		"--lr", strconv.FormatFloat(lr, 'g', -1, 64), "--momentum", strconv.FormatFloat(c.Momentum, 'g', -1, 64),
		"--weight-decay", strconv.FormatFloat(c.WeightDecay, 'g', -1, 64), "--seed", strconv.FormatUint(c.Seed, 10),
		"--train-limit", strconv.Itoa(c.TrainLimit), "--test-limit", strconv.Itoa(c.TestLimit), "--out", dir, "--json"}
	if c.DataDir != "" {
		args = append(args, "--data-dir", c.DataDir)
	}
	if qc != "" {
		args = append(args, "--quant-config", qc)
	}
	if epochs == 0 {
		args = append(args, "--ptq", "--calib-images", strconv.Itoa(c.CalibImages))
	} else {
		args = append(args, "--epochs", strconv.Itoa(epochs))
	}
	if _, err := os.Stat(filepath.Join(dir, runConfigName)); err == nil {
		args = append(args, "--resume")
	}
	var out bytes.Buffer
	if err := runTrain(ctx, args, &out, progress); err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r trainSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return 0, errors.New("train printed no summary")
	}
	return r.TestAcc, nil
}
