package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"time"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/onnx"
)

// intEvalFlags are eval's flags for an exported integer model.
type intEvalFlags struct {
	model, compareRun, data, dataDir string
	onnxFile, onnxLib                string
	testLimit, batch, workers        int
	floatSim, layerTimes             bool
}

// owns reports whether flag name is one of register's.
func (f *intEvalFlags) owns(name string) bool {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	var g intEvalFlags
	g.register(fs)
	return name != "model" && fs.Lookup(name) != nil
}

func (f *intEvalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "evaluate this exported integer model (from qatgo export) with the integer-only runtime")
	fs.StringVar(&f.compareRun, "compare-run", "", "with --model: also run this run's fake-quant model and count differing predictions")
	fs.StringVar(&f.data, "data", "", "with --model: dataset (default: the compared run's, else the one the model was exported from, else mnist)")
	fs.StringVar(&f.dataDir, "data-dir", "", "with --model: dataset directory")
	fs.IntVar(&f.testLimit, "test-limit", 0, "with --model: use only the first N test images (0: the run's setting, else all)")
	fs.IntVar(&f.batch, "batch", 256, "with --model: integer runtime batch size")
	fs.IntVar(&f.workers, "workers", 0, "with --model: integer runtime worker goroutines (0: GOMAXPROCS)")
	fs.StringVar(&f.onnxFile, "onnx", "", "with --model: also run this ONNX export of the model (qatgo export --onnx) in onnxruntime and count differing predictions and logits")
	fs.StringVar(&f.onnxLib, "onnx-lib", "", "with --onnx: onnxruntime shared library (default: $"+onnx.EnvRuntimeLib+", else the one `"+onnx.RuntimeSetup+"` installs)")
	fs.BoolVar(&f.layerTimes, "layer-times", false, "with --model: time every layer of the integer runtime and print its time per image and share")
	fs.BoolVar(&f.floatSim, "float-sim", false, "with --compare-run: also count disagreements of the plain float simulation (integer-exact evaluation off)")
}

// intEvalSummary is eval --model's --json line.
type intEvalSummary struct {
	Model        string  `json:"model"`
	Data         string  `json:"data"`
	Images       int     `json:"images"`
	TestAcc      float64 `json:"test_accuracy"`
	ImagesPerSec float64 `json:"images_per_sec"`
	Workers      int     `json:"workers"`
	Batch        int     `json:"batch"`
	Kernel       string  `json:"kernel"` // the int8 GEMM this CPU ran (intruntime.Kernel)
	// With --compare-run.
	CompareRun       string   `json:"compare_run,omitempty"`
	Disagreements    *int     `json:"disagreements,omitempty"`
	FakeQuantAcc     *float64 `json:"fake_quant_accuracy,omitempty"`
	LogitsDiffering  *int     `json:"logits_differing,omitempty"`
	CodesSimulated   int64    `json:"codes_simulated,omitempty"`
	CodesFloatWrong  int64    `json:"codes_float_sim_would_differ,omitempty"`
	FloatSimDisagree *int     `json:"disagreements_float_sim,omitempty"`
	FloatSimAcc      *float64 `json:"float_sim_accuracy,omitempty"`
	// With --onnx: onnxruntime on the ONNX export against the integer
	// runtime. Codes are compared when the export has the codes output.
	ONNX                string   `json:"onnx,omitempty"`
	ONNXRuntime         string   `json:"onnxruntime_version,omitempty"`
	ONNXDisagreements   *int     `json:"onnx_disagreements,omitempty"`
	ONNXLogitsDiffering *int     `json:"onnx_logits_differing,omitempty"`
	ONNXCodesDiffering  *int     `json:"onnx_codes_differing,omitempty"`
	ONNXAcc             *float64 `json:"onnx_accuracy,omitempty"`
	ONNXImagesPerSec    float64  `json:"onnx_images_per_sec,omitempty"`
	// With --layer-times: the integer runtime's time per layer.
	LayerTimes []layerTimeSummary `json:"layer_times,omitempty"`
}

// layerTimeSummary is one layer's time in eval --model --layer-times.
type layerTimeSummary struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Output     string  `json:"output"`          // C×H×W
	MicrosPer  float64 `json:"us_per_image"`    // wall time per image, summed over workers
	ShareTotal float64 `json:"share_of_layers"` // of all layers' time
	// GMACs is the layer's multiply-adds per second of that time
	// (intmodel.Inspect's MACs; 0 for layers without weights): set
	// against the core's int8 peak, which layers run far below it.
	GMACs float64 `json:"gmac_per_s,omitempty"`
}

// layerTimes summarizes run's per-layer times (Runner.TimeLayers) and
// prints them as a table to w; macs are the layers' multiply-adds per
// image (nil: none).
func layerTimes(w io.Writer, run *intruntime.Runner, macs []int64) []layerTimeSummary {
	lts := run.LayerTimes()
	out := make([]layerTimeSummary, 0, len(lts))
	var total float64
	for i, lt := range lts {
		if lt.Images == 0 {
			continue
		}
		sh := run.LayerShape(i)
		us := lt.Time.Seconds() / float64(lt.Images) * 1e6
		total += us
		l := layerTimeSummary{Name: lt.Name, Kind: lt.Kind, Output: fmt.Sprintf("%d×%d×%d", sh.C, sh.H, sh.W), MicrosPer: us}
		if i < len(macs) && us > 0 {
			l.GMACs = float64(macs[i]) / us / 1e3
		}
		out = append(out, l)
	}
	fmt.Fprintf(w, "integer runtime time per layer (µs per image, wall time summed over workers; G multiply-adds/s):\n")
	for i := range out {
		if total > 0 {
			out[i].ShareTotal = out[i].MicrosPer / total
		}
		l := &out[i]
		line := fmt.Sprintf("  %-24s %-14s %-12s %9.2f  %5.1f%%", l.Name, l.Kind, l.Output, l.MicrosPer, 100*l.ShareTotal)
		if l.GMACs > 0 {
			line += fmt.Sprintf("  %8.1f", l.GMACs)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "  %-24s %-14s %-12s %9.2f\n", "total", "", "", total)
	return out
}

func runEvalModel(ctx context.Context, f intEvalFlags, asJSON bool, stdout, stderr io.Writer) error {
	if err := checkNums(intIn("batch", f.batch, 1, maxBatch), intIn("workers", f.workers, 0, 1024),
		intIn("test-limit", f.testLimit, 0, math.MaxInt32)); err != nil {
		return err
	}
	m, err := intmodel.Read(f.model)
	if err != nil {
		return err
	}
	var net *nn.Net
	var testSet *datasets.Dataset
	dataName := f.data
	if f.compareRun != "" {
		c, err := readRunConfig(f.compareRun)
		if err != nil {
			return fmt.Errorf("--compare-run: %w", err)
		}
		if f.data != "" && f.data != c.Data {
			return fmt.Errorf("--data %s differs from the compared run's dataset %s", f.data, c.Data)
		}
		dataName = c.Data
		if want := m.Meta["run_id"]; want != "" {
			if id, err := runID(f.compareRun, c); err == nil && id != want {
				return fmt.Errorf("--compare-run: %s was exported from another state of %s (run id %s, now %s); export it again", f.model, f.compareRun, want, id)
			}
		}
		var n *nn.Net
		if _, n, _, testSet, err = loadRun(ctx, f.compareRun); err != nil {
			return fmt.Errorf("--compare-run: %w", err)
		}
		net = n
		defer net.Close()
	} else {
		if dataName == "" {
			dataName = m.Meta["data"] // the dataset of the run it was exported from
		}
		if dataName == "" {
			dataName = "mnist"
		}
		if _, testSet, err = loadData(RunConfig{Data: dataName, DataDir: f.dataDir}); err != nil {
			return err
		}
	}
	if f.testLimit > 0 && f.testLimit < testSet.Len() {
		if testSet, err = testSet.Subset(f.testLimit); err != nil {
			return err
		}
	}
	if f.batch < 1 {
		return fmt.Errorf("--batch %d, want ≥ 1", f.batch)
	}
	run, err := intruntime.NewRunner(m, f.batch, f.workers)
	if err != nil {
		return fmt.Errorf("%s: %w", f.model, err)
	}
	defer run.Close()
	per, k := testSet.SampleSize(), run.OutputSize()
	if run.InputSize() != per || k != testSet.NumClasses {
		return fmt.Errorf("%s takes %d values and gives %d classes; %s images have %d values and %d classes",
			f.model, run.InputSize(), k, dataName, per, testSet.NumClasses)
	}
	N := testSet.Len()
	intLogits := make([]float32, N*k)
	var intCodes []int32 // the last layer's codes, for --onnx
	if f.layerTimes {
		run.TimeLayers(true)
	}
	t0 := time.Now()
	for s := 0; s < N; s += f.batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(f.batch, N-s)
		if err := run.Run(testSet.X[s*per:(s+n)*per], n, intLogits[s*k:(s+n)*k]); err != nil {
			return err
		}
		if f.onnxFile != "" {
			c, err := run.LayerCodes(run.NumLayers()-1, nil)
			if err != nil {
				return err
			}
			intCodes = append(intCodes, c...)
		}
	}
	sec := time.Since(t0).Seconds()
	intPred := predictions(intLogits, k)
	sum := intEvalSummary{Model: f.model, Data: dataName, Images: N, TestAcc: accuracy(intPred, testSet.Labels),
		ImagesPerSec: float64(N) / sec, Workers: workers(f), Batch: f.batch, Kernel: intruntime.Kernel()}
	fmt.Fprintf(stdout, "integer runtime: test accuracy %.2f%% on %d %s images, %.0f images/s (%s int8 GEMM)\n", 100*sum.TestAcc, N, dataName, sum.ImagesPerSec, sum.Kernel)
	if f.layerTimes {
		var macs []int64
		if info, err := intmodel.Inspect(m); err == nil {
			for _, l := range info.Layers {
				macs = append(macs, l.MACs)
			}
		}
		sum.LayerTimes = layerTimes(stdout, run, macs)
	}
	if net != nil {
		sum.CompareRun = f.compareRun
		fqLogits, err := predictAll(ctx, net, testSet)
		if err != nil {
			return err
		}
		fqPred := predictions(fqLogits, k)
		d, acc := disagreements(fqPred, intPred), accuracy(fqPred, testSet.Labels)
		ld := 0
		for i := range fqLogits {
			if fqLogits[i] != intLogits[i] {
				ld++
			}
		}
		sum.Disagreements, sum.FakeQuantAcc, sum.LogitsDiffering = &d, &acc, &ld
		sum.CodesSimulated, sum.CodesFloatWrong = net.IntegerExactStats()
		fmt.Fprintf(stdout, "fake-quant model (integer-exact eval): test accuracy %.2f%%; %d of %d predictions differ from the integer runtime (%d of %d logits)\n",
			100*acc, d, N, ld, len(fqLogits))
		if f.floatSim {
			net.SetIntegerExactEval(false)
			flLogits, err := predictAll(ctx, net, testSet)
			if err != nil {
				return err
			}
			flPred := predictions(flLogits, k)
			fd, facc := disagreements(flPred, intPred), accuracy(flPred, testSet.Labels)
			sum.FloatSimDisagree, sum.FloatSimAcc = &fd, &facc
			fmt.Fprintf(stdout, "plain float simulation: test accuracy %.2f%%; %d of %d predictions differ from the integer runtime\n", 100*facc, fd, N)
		}
	}
	if f.onnxFile != "" {
		if err := evalONNX(ctx, f, testSet, intLogits, intCodes, &sum, stdout); err != nil {
			return err
		}
	}
	if asJSON {
		return printJSON(stdout, sum)
	}
	return nil
}

// evalONNX runs the test set through the ONNX export in onnxruntime and
// records how its predictions, logits and (if exported) codes differ from
// the integer runtime's.
func evalONNX(ctx context.Context, f intEvalFlags, testSet *datasets.Dataset, intLogits []float32, intCodes []int32, sum *intEvalSummary, stdout io.Writer) error {
	b, err := os.ReadFile(f.onnxFile)
	if err != nil {
		return fmt.Errorf("--onnx: %w", err)
	}
	if err := onnx.LoadRuntime(f.onnxLib); err != nil {
		return fmt.Errorf("--onnx: %w", err)
	}
	// onnxruntime's default (full) graph optimization: the configuration a
	// deployment would use.
	s, err := onnx.NewSession(b, onnx.SessionOptions{Optimize: true, Threads: max(f.workers, 0)})
	if err != nil {
		return fmt.Errorf("--onnx %s: %w", f.onnxFile, err)
	}
	defer s.Close()
	N, per, k := testSet.Len(), testSet.SampleSize(), len(intLogits)/testSet.Len()
	if s.InputSize() != per {
		return fmt.Errorf("--onnx %s takes %d values per image; %s has %d", f.onnxFile, s.InputSize(), f.model, per)
	}
	logits := make([]float32, 0, N*k)
	var codes []int32
	t0 := time.Now()
	for i := 0; i < N; i += f.batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(f.batch, N-i)
		l, c, err := s.Run(testSet.X[i*per:(i+n)*per], n)
		if err != nil {
			return fmt.Errorf("--onnx %s: %w", f.onnxFile, err)
		}
		if len(l) != n*k {
			return fmt.Errorf("--onnx %s gives %d logits per image; %s gives %d", f.onnxFile, len(l)/n, f.model, k)
		}
		logits = append(logits, l...)
		codes = append(codes, c...)
	}
	sec := time.Since(t0).Seconds()
	pred := predictions(logits, k)
	d, acc := disagreements(pred, predictions(intLogits, k)), accuracy(pred, testSet.Labels)
	ld := 0
	for i := range logits {
		if logits[i] != intLogits[i] {
			ld++
		}
	}
	sum.ONNX, sum.ONNXRuntime = f.onnxFile, onnx.RuntimeVersion()
	sum.ONNXDisagreements, sum.ONNXLogitsDiffering, sum.ONNXAcc = &d, &ld, &acc
	sum.ONNXImagesPerSec = float64(N) / sec
	codesNote := "codes not exported"
	if s.HasCodes() {
		if len(codes) != len(intCodes) {
			return fmt.Errorf("--onnx %s gives %d codes; %s gives %d", f.onnxFile, len(codes), f.model, len(intCodes))
		}
		cd := 0
		for i := range codes {
			if codes[i] != intCodes[i] {
				cd++
			}
		}
		sum.ONNXCodesDiffering = &cd
		codesNote = fmt.Sprintf("%d of %d codes", cd, len(codes))
	}
	fmt.Fprintf(stdout, "onnxruntime %s on %s: test accuracy %.2f%%; %d of %d predictions differ from the integer runtime (%d of %d logits, %s), %.0f images/s\n",
		sum.ONNXRuntime, f.onnxFile, 100*acc, d, N, ld, len(logits), codesNote, sum.ONNXImagesPerSec)
	return nil
}

// workers is the number of goroutines NewRunner uses for f.
func workers(f intEvalFlags) int {
	w := f.workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return min(w, f.batch)
}

// predictAll runs net.Predict over the whole set.
func predictAll(ctx context.Context, net *nn.Net, d *datasets.Dataset) ([]float32, error) {
	per, k, b := d.SampleSize(), net.Config().Classes, net.Batch()
	out := make([]float32, d.Len()*k)
	for s := 0; s < d.Len(); s += b {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(b, d.Len()-s)
		if err := net.Predict(d.X[s*per:(s+n)*per], n, out[s*k:(s+n)*k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// predictions is the argmax of each row of k logits, the first maximum on
// ties (the same rule for both models, so identical logits give identical
// predictions).
func predictions(logits []float32, k int) []int {
	p := make([]int, len(logits)/k)
	for i := range p {
		row := logits[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		p[i] = best
	}
	return p
}

func accuracy(pred []int, labels []uint8) float64 {
	if len(pred) == 0 {
		return 0
	}
	c := 0
	for i, p := range pred {
		if p == int(labels[i]) {
			c++
		}
	}
	return float64(c) / float64(len(pred))
}

func disagreements(a, b []int) int {
	d := 0
	for i := range a {
		if a[i] != b[i] {
			d++
		}
	}
	return d
}
