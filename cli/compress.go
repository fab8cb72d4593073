package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qatgo/qatgo/codebook"
	"github.com/qatgo/qatgo/compress"
	"github.com/qatgo/qatgo/deepcompress"
	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/train"
)

// Files a compress run directory holds besides config.json.
const (
	compressedFileName = "model.dc"  // compress.WriteFile: the compressed model
	reportFileName     = "report.md" // the per-layer storage table
)

// paperKeep is the kept fraction per layer of Deep Compression's Tables 1-3
// for the models that have one.
var paperKeep = map[string]string{
	"lenet300": "fc1=0.08,fc2=0.09,fc3=0.26",
	"lenet5":   "conv1=0.66,conv2=0.12,fc1=0.08,fc2=0.19",
}

// compressLayer is one row of compress's --json.
type compressLayer struct {
	Name      string  `json:"name"`
	Weights   int     `json:"weights"`
	Kept      float64 `json:"kept"`
	IndexBits int     `json:"index_bits"`
	HuffIndex float64 `json:"index_bits_huffman"`
	RelBits   int     `json:"rel_bits"`
	HuffRel   float64 `json:"rel_bits_huffman"`
	Bytes     int64   `json:"bytes"`
	Ratio     float64 `json:"compression_ratio"`
}

// compressSummary is compress's --json line.
type compressSummary struct {
	Model          string                `json:"model"`
	Data           string                `json:"data"`
	TestAcc        float64               `json:"test_accuracy"`
	TestErr        float64               `json:"test_error"`
	BaseAcc        float64               `json:"base_test_accuracy"`
	DecodedAcc     float64               `json:"decoded_test_accuracy"`
	DecodedExact   bool                  `json:"decoded_exact"`
	Ratio          float64               `json:"compression_ratio"` // weights, FP32 vs P+Q+H
	RatioWithBias  float64               `json:"compression_ratio_with_bias"`
	RatioPruned    float64               `json:"compression_ratio_pruned"`
	RatioQuantized float64               `json:"compression_ratio_quantized"`
	Bytes          int64                 `json:"bytes"` // weights at P+Q+H
	FP32Bytes      int64                 `json:"fp32_bytes"`
	BiasBytes      int64                 `json:"bias_bytes"`
	FileBytes      int                   `json:"file_bytes"`
	Layers         []compressLayer       `json:"layers"`
	Stages         []deepcompress.Stage  `json:"stages"`
	Seconds        float64               `json:"seconds"`
	Out            string                `json:"out"`
	Config         compressConfigSummary `json:"config"`
}

type compressConfigSummary struct {
	Keep            string  `json:"keep"`
	PruneStages     int     `json:"prune_stages"`
	RetrainEpochs   int     `json:"retrain_epochs"`
	ConvBits        int     `json:"conv_bits"`
	FCBits          int     `json:"fc_bits"`
	Bits            string  `json:"bits,omitempty"`
	ConvRelBits     int     `json:"conv_rel_bits,omitempty"`
	FCRelBits       int     `json:"fc_rel_bits,omitempty"`
	Rule            string  `json:"rule"`
	CentroidLRScale float64 `json:"centroid_lr_scale"`
	FineTuneEpochs  int     `json:"finetune_epochs"`
	LR              float64 `json:"lr"`
	FineTuneLR      float64 `json:"finetune_lr"`
}

func runCompress(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compress", stderr)
	runDir := fs.String("run", "", "trained run directory to compress (from qatgo train); required")
	out := fs.String("out", "", "directory for the compressed model (default RUN/compressed)")
	keep := fs.String("keep", "paper", `kept fraction per layer after pruning, e.g. "fc1=0.08,fc2=0.09,*=0.3" ("paper": the paper's per-layer values for lenet5 and lenet300; "none": no pruning)`)
	var cs compressConfigSummary
	fs.IntVar(&cs.PruneStages, "prune-stages", 3, "iterative prune → retrain stages")
	fs.IntVar(&cs.RetrainEpochs, "retrain-epochs", 2, "retraining epochs after each pruning stage")
	fs.IntVar(&cs.ConvBits, "conv-bits", 8, "k-means index bits of conv layers (2^bits centroids)")
	fs.IntVar(&cs.FCBits, "fc-bits", 5, "k-means index bits of fully connected layers")
	fs.StringVar(&cs.Bits, "bits", "", `per-layer index bits overriding --conv-bits/--fc-bits, e.g. "fc1=4,conv2=6"`)
	fs.IntVar(&cs.ConvRelBits, "conv-rel-bits", 0, "relative-position bits of sparse conv layers (0: 8)")
	fs.IntVar(&cs.FCRelBits, "fc-rel-bits", 0, "relative-position bits of sparse FC layers (0: 5)")
	fs.StringVar(&cs.Rule, "rule", "sum", "centroid gradient: sum (the paper) or mean")
	fs.Float64Var(&cs.CentroidLRScale, "centroid-lr-scale", 0.1, "learning-rate multiplier of the centroids")
	fs.IntVar(&cs.FineTuneEpochs, "finetune-epochs", 1, "centroid fine-tuning epochs")
	fs.Float64Var(&cs.LR, "lr", 0.03, "retraining learning rate (cosine-annealed per stage)")
	fs.Float64Var(&cs.FineTuneLR, "finetune-lr", 0.002, "fine-tuning learning rate (cosine-annealed)")
	weightDecay := fs.Float64("weight-decay", 5e-4, "weight decay while retraining (weights only)")
	maxSteps := fs.Int("max-steps", 0, "limit every epoch to this many batches (0: all), for smoke runs")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runDir == "" {
		fmt.Fprintln(stderr, "qatgo compress: --run is required")
		return errUsage
	}
	if err := checkNums(intIn("prune-stages", cs.PruneStages, 0, 1000), intIn("retrain-epochs", cs.RetrainEpochs, 0, maxEpochs),
		intIn("conv-bits", cs.ConvBits, 1, 16), intIn("fc-bits", cs.FCBits, 1, 16),
		intIn("conv-rel-bits", cs.ConvRelBits, 0, 16), intIn("fc-rel-bits", cs.FCRelBits, 0, 16),
		nonNegF("centroid-lr-scale", cs.CentroidLRScale), intIn("finetune-epochs", cs.FineTuneEpochs, 0, maxEpochs),
		positiveF("lr", cs.LR), positiveF("finetune-lr", cs.FineTuneLR), nonNegF("weight-decay", *weightDecay),
		intIn("max-steps", *maxSteps, 0, math.MaxInt32)); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(*runDir, "compressed")
	}
	t0 := time.Now()
	c, net, trainSet, testSet, err := loadRun(ctx, *runDir)
	if err != nil {
		return err
	}
	cs.Keep = *keep
	if *keep == "paper" {
		if cs.Keep = paperKeep[c.Model]; cs.Keep == "" {
			net.Close()
			return fmt.Errorf("--keep paper: no paper values for model %q; give --keep", c.Model)
		}
	}
	cfg := deepcompress.Config{PruneStages: cs.PruneStages, RetrainEpochs: cs.RetrainEpochs,
		ConvBits: cs.ConvBits, FCBits: cs.FCBits, ConvRelBits: cs.ConvRelBits, FCRelBits: cs.FCRelBits,
		CentroidLRScale: cs.CentroidLRScale, FineTuneEpochs: cs.FineTuneEpochs,
		LR: float32(cs.LR), FineTuneLR: float32(cs.FineTuneLR), Seed: c.Seed, MaxStepsPerEpoch: *maxSteps,
		Progress: stderr}
	wd := float32(*weightDecay)
	cfg.NewOptimizer = func() train.Optimizer { return &train.SGD{Momentum: 0.9, WeightDecay: wd} }
	if cfg.Keep, cfg.DefaultKeep, err = parseLayerFloats(cs.Keep); err != nil {
		net.Close()
		return fmt.Errorf("--keep: %w", err)
	}
	if cs.Bits != "" {
		if cfg.Bits, err = parseLayerInts(cs.Bits); err != nil {
			net.Close()
			return fmt.Errorf("--bits: %w", err)
		}
	}
	switch cs.Rule {
	case "sum":
		cfg.Rule = codebook.Sum
	case "mean":
		cfg.Rule = codebook.Mean
	default:
		net.Close()
		return fmt.Errorf("--rule %q: want sum or mean", cs.Rule)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		net.Close()
		return err
	}
	fmt.Fprintf(stderr, "compressing %s (%s, %s) from %s: keep %s, %d prune stages × %d epochs, bits conv %d fc %d, %d fine-tune epochs\n",
		c.Model, c.Quant, c.Data, *runDir, cs.Keep, cs.PruneStages, cs.RetrainEpochs, cs.ConvBits, cs.FCBits, cs.FineTuneEpochs)
	res, err := deepcompress.Run(ctx, net, train.FromDataset(trainSet), train.FromDataset(testSet), cfg)
	if err != nil {
		return err
	}
	defer res.Net.Close()

	// The file on disk, read back and decoded into a fresh model: its
	// predictions must be those of the fine-tuned model, bit for bit.
	path := filepath.Join(*out, compressedFileName)
	if err := compress.WriteFile(path, res.Layers); err != nil {
		return err
	}
	decoded, err := compress.ReadFile(path)
	if err != nil {
		return err
	}
	newModule := func() (nn.Module, error) {
		m, _, err := runModel(ctx, *c, trainSet)
		return m, err
	}
	dec, err := deepcompress.Decode(res.Net, newModule, decoded)
	if err != nil {
		return err
	}
	defer dec.Close()
	decAcc, exact, err := deepcompress.Compare(res.Net, dec, train.FromDataset(testSet))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "decoded %s: test accuracy %.2f%%, logits bit-identical to the fine-tuned model: %v\n", path, 100*decAcc, exact)
	if !exact {
		return fmt.Errorf("the model decoded from %s differs from the fine-tuned model", path)
	}
	// The decoded dense model as a run directory, so qatgo eval works on it
	// (for an FP32 base; a QAT base's config would re-add weight quantizers).
	if err := dec.SaveState(filepath.Join(*out, stateFileName)); err != nil {
		return err
	}
	if err := writeRunConfig(*out, c); err != nil {
		return err
	}

	rep := res.Report
	tot := rep.Total
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	sum := compressSummary{Model: c.Model, Data: c.Data, TestAcc: res.TestAcc, TestErr: 1 - res.TestAcc,
		BaseAcc: res.Stages[0].TestAcc, DecodedAcc: decAcc, DecodedExact: exact,
		Ratio: tot.Ratio(compress.Huffman), RatioWithBias: tot.RatioWithBias(compress.Huffman),
		RatioPruned: tot.Ratio(compress.Pruned), RatioQuantized: tot.Ratio(compress.Quantized),
		Bytes: (tot.Bits[compress.Huffman] + 7) / 8, FP32Bytes: tot.Bits[compress.FP32] / 8, BiasBytes: tot.BiasBits / 8,
		FileBytes: int(info.Size()), Stages: res.Stages, Seconds: time.Since(t0).Seconds(), Out: *out, Config: cs}
	for _, r := range rep.Rows {
		sum.Layers = append(sum.Layers, compressLayer{Name: r.Name, Weights: r.Weights, Kept: r.KeptFrac(),
			IndexBits: r.IndexBits, HuffIndex: r.AvgIndexBits(), RelBits: r.RelBits, HuffRel: r.AvgRelBits(),
			Bytes: (r.Bits[compress.Huffman] + 7) / 8, Ratio: r.Ratio(compress.Huffman)})
	}
	table := deepcompress.PaperTable(rep)
	md := fmt.Sprintf("# Deep Compression of %s (%s)\n\nTest accuracy: base %.2f%%, compressed %.2f%% (error %.2f%%); decoded from %s: %.2f%% (bit-identical logits: %v).\n\n%s\n## Storage in bits per stage\n\n%s",
		c.Model, c.Data, 100*sum.BaseAcc, 100*sum.TestAcc, 100*sum.TestErr, compressedFileName, 100*decAcc, exact, table, rep.Markdown())
	if err := atomicfile.WriteFile(filepath.Join(*out, reportFileName), []byte(md), 0o644); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(*out, "result.json"), sum); err != nil {
		return err
	}
	fmt.Fprint(stdout, table)
	fmt.Fprintf(stdout, "\ntest error %.2f%% (base %.2f%%), weights %d → %d bytes: %.1fx (%.1fx with biases); file %s, %d bytes\n",
		100*sum.TestErr, 100*(1-sum.BaseAcc), sum.FP32Bytes, sum.Bytes, sum.Ratio, sum.RatioWithBias, path, sum.FileBytes)
	if *asJSON {
		return printJSON(stdout, sum)
	}
	return nil
}

// parseLayerFloats reads "name=v,name=v,*=v" ("*" sets the default); "none"
// or "" is empty.
func parseLayerFloats(s string) (map[string]float64, float64, error) {
	m := map[string]float64{}
	def := 0.0
	if s == "" || s == "none" {
		return m, def, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || k == "" || err != nil {
			return nil, 0, fmt.Errorf("bad entry %q (want layer=value)", kv)
		}
		if k == "*" {
			def = f
		} else {
			m[k] = f
		}
	}
	return m, def, nil
}

func parseLayerInts(s string) (map[string]int, error) {
	m := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		n, err := strconv.Atoi(v)
		if !ok || k == "" || err != nil {
			return nil, fmt.Errorf("bad entry %q (want layer=bits)", kv)
		}
		m[k] = n
	}
	return m, nil
}
