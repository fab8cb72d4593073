package deepcompress

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/qatgo/qatgo/codebook"
	"github.com/qatgo/qatgo/compress"
	"github.com/qatgo/qatgo/kmeans"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/prune"
	"github.com/qatgo/qatgo/train"
)

// Config configures the pipeline. Zero values take the documented defaults.
type Config struct {
	// Keep is the fraction of weights a layer keeps after pruning, by layer
	// name (the paper's LeNet-5: conv1 0.66, conv2 0.12, fc1 0.08, fc2
	// 0.19); layers not listed keep DefaultKeep (0 means 1: not pruned).
	Keep        map[string]float64
	DefaultKeep float64
	// PruneStages is the number of prune → retrain iterations (default 1);
	// after stage i of N a layer keeps Keep^(i/N), so every stage removes
	// the same fraction of the survivors.
	PruneStages int
	// RetrainEpochs is the retraining after each pruning stage (0: none).
	RetrainEpochs int

	// ConvBits and FCBits are the cluster-index widths: 2^bits centroids
	// per layer (defaults 8 and 5, the paper's LeNet settings); Bits
	// overrides them by layer name.
	ConvBits, FCBits int
	Bits             map[string]int
	// ConvRelBits and FCRelBits are the relative-position widths of pruned
	// layers (0: compress.DefaultRelBits, 8 for conv and 5 for FC).
	ConvRelBits, FCRelBits int
	// Rule reduces a cluster's weight gradients onto its centroid: Sum
	// (the paper) or Mean.
	Rule codebook.Rule
	// CentroidLRScale multiplies the learning rate of the centroids
	// (default 1); with Sum a centroid's gradient adds up those of all its
	// weights, so it usually wants a small scale.
	CentroidLRScale float64
	// FineTuneEpochs trains the centroids (and biases) after clustering.
	FineTuneEpochs int

	// LR is the base learning rate of retraining (default 0.01), annealed
	// by a cosine over each stage; FineTuneLR that of fine-tuning (default LR).
	LR, FineTuneLR float32
	// NewOptimizer returns a fresh optimizer for each training stage
	// (default SGD, momentum 0.9, weight decay 5e-4 on weights).
	NewOptimizer func() train.Optimizer
	// Seed derives the shuffling of every training stage.
	Seed uint64
	// MaxStepsPerEpoch limits every epoch (0: all batches), for smoke runs.
	MaxStepsPerEpoch int
	// Progress receives one line per stage and the training progress; nil
	// prints nothing.
	Progress io.Writer
	// NewModule, when set, builds a fresh model of the same architecture;
	// Run then decodes the compressed file into it and checks that it
	// predicts exactly as the fine-tuned model does.
	NewModule func() (nn.Module, error)
}

func (c *Config) defaults() error {
	if c.PruneStages == 0 {
		c.PruneStages = 1
	}
	if c.ConvBits == 0 {
		c.ConvBits = 8
	}
	if c.FCBits == 0 {
		c.FCBits = 5
	}
	if c.CentroidLRScale == 0 {
		c.CentroidLRScale = 1
	}
	if c.LR == 0 {
		c.LR = 0.01
	}
	if c.FineTuneLR == 0 {
		c.FineTuneLR = c.LR
	}
	if c.NewOptimizer == nil {
		c.NewOptimizer = func() train.Optimizer { return &train.SGD{Momentum: 0.9, WeightDecay: 5e-4} }
	}
	switch {
	case c.PruneStages < 0 || c.RetrainEpochs < 0 || c.FineTuneEpochs < 0:
		return fmt.Errorf("%w: negative stages or epochs", ErrConfig)
	case !(c.DefaultKeep >= 0 && c.DefaultKeep <= 1):
		return fmt.Errorf("%w: default keep %v outside [0, 1]", ErrConfig, c.DefaultKeep)
	case c.ConvBits < 1 || c.ConvBits > 16 || c.FCBits < 1 || c.FCBits > 16:
		return fmt.Errorf("%w: index bits conv %d, fc %d, want 1..16", ErrConfig, c.ConvBits, c.FCBits)
	case c.ConvRelBits < 0 || c.ConvRelBits > 16 || c.FCRelBits < 0 || c.FCRelBits > 16:
		return fmt.Errorf("%w: relative-position bits conv %d, fc %d, want 1..16 (0: default)", ErrConfig, c.ConvRelBits, c.FCRelBits)
	case !(c.CentroidLRScale > 0):
		return fmt.Errorf("%w: centroid LR scale %v", ErrConfig, c.CentroidLRScale)
	}
	for name, k := range c.Keep {
		if !(k > 0 && k <= 1) {
			return fmt.Errorf("%w: layer %s keeps %v, want (0, 1]", ErrConfig, name, k)
		}
	}
	for name, b := range c.Bits {
		if b < 1 || b > 16 {
			return fmt.Errorf("%w: layer %s: %d index bits, want 1..16", ErrConfig, name, b)
		}
	}
	return nil
}

func (c *Config) keep(name string) float64 {
	if k, ok := c.Keep[name]; ok {
		return k
	}
	if c.DefaultKeep == 0 {
		return 1
	}
	return c.DefaultKeep
}

func (c *Config) bits(t Target) int {
	if b, ok := c.Bits[t.Name]; ok {
		return b
	}
	if t.Conv {
		return c.ConvBits
	}
	return c.FCBits
}

func (c *Config) relBits(t Target) int {
	if t.Conv {
		return c.ConvRelBits
	}
	return c.FCRelBits
}

func (c *Config) printf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format, args...)
	}
}

// Stage is the outcome of one step of the pipeline.
type Stage struct {
	Name    string  `json:"stage"`
	Kept    float64 `json:"kept"` // kept fraction of the compressible weights
	TestAcc float64 `json:"test_accuracy"`
	Epochs  int     `json:"epochs"`
	Seconds float64 `json:"seconds"`
}

// Result is what Run produced.
type Result struct {
	Stages  []Stage
	TestAcc float64 // of the fine-tuned weight-shared model
	// Layers are the compressed layers, Report their storage per stage,
	// File their compressed-model file (compress.Marshal).
	Layers []compress.Layer
	Report compress.Report
	File   []byte
	// DecodedAcc is the accuracy of a fresh model loaded from File (-1
	// without Config.NewModule); DecodedExact reports that its logits equal
	// the fine-tuned model's bit for bit on the whole test set.
	DecodedAcc   float64
	DecodedExact bool
	// Net is the fine-tuned weight-shared model; the caller closes it.
	Net *nn.Net
}

// Run compresses net's model: prune and retrain, share weights by k-means,
// fine-tune the centroids, then encode and account. It takes over net: the
// model is recompiled with shared weights (Result.Net) and net is closed.
// On error the nets it holds are closed.
func Run(ctx context.Context, net *nn.Net, trainSet, testSet train.Dataset, cfg Config) (res *Result, err error) {
	if err := cfg.defaults(); err != nil {
		net.Close()
		return nil, err
	}
	res = &Result{DecodedAcc: -1}
	defer func() {
		if err != nil {
			net.Close()
			res = nil
		}
	}()
	ts := Targets(net.Module())
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: no Linear or Conv2d layers", ErrModel)
	}
	t0 := time.Now()
	acc, err := evaluate(net, testSet)
	if err != nil {
		return nil, err
	}
	res.Stages = append(res.Stages, Stage{Name: "base", Kept: kept(ts), TestAcc: acc, Seconds: time.Since(t0).Seconds()})
	cfg.printf("base: test accuracy %.2f%%\n", 100*acc)

	st, err := Prune(ctx, net, trainSet, testSet, cfg)
	res.Stages = append(res.Stages, st...)
	if err != nil {
		return nil, err
	}

	t0 = time.Now()
	shared, err := Share(net, cfg)
	if err != nil {
		return nil, err
	}
	net.Close()
	net = shared
	if acc, err = evaluate(net, testSet); err != nil {
		return nil, err
	}
	res.Stages = append(res.Stages, Stage{Name: "quantize", Kept: kept(ts), TestAcc: acc, Seconds: time.Since(t0).Seconds()})
	cfg.printf("k-means weight sharing (conv %d bits, fc %d bits): test accuracy %.2f%%\n", cfg.ConvBits, cfg.FCBits, 100*acc)

	if cfg.FineTuneEpochs > 0 {
		t0 = time.Now()
		cfg.printf("fine-tuning centroids (%s rule, LR %g, centroid LR scale %g) for %d epochs\n", cfg.Rule, cfg.FineTuneLR, cfg.CentroidLRScale, cfg.FineTuneEpochs)
		if acc, err = fit(ctx, net, trainSet, testSet, cfg, cfg.FineTuneEpochs, cfg.FineTuneLR, cfg.Seed+1000, nil); err != nil {
			return nil, err
		}
		res.Stages = append(res.Stages, Stage{Name: "fine-tune", Kept: kept(ts), TestAcc: acc, Epochs: cfg.FineTuneEpochs, Seconds: time.Since(t0).Seconds()})
		cfg.printf("fine-tuned: test accuracy %.2f%%\n", 100*acc)
	}
	res.TestAcc = acc
	if err := net.SyncShared(); err != nil {
		return nil, err
	}

	if res.Layers, err = Layers(net.Module(), cfg); err != nil {
		return nil, err
	}
	if res.Report, err = compress.Analyze(res.Layers); err != nil {
		return nil, err
	}
	if res.File, err = compress.Marshal(res.Layers); err != nil {
		return nil, err
	}
	tot := res.Report.Total
	cfg.printf("storage: %d bytes FP32 → %d bytes (P+Q+H), %.1fx; file %d bytes\n",
		tot.Bits[compress.FP32]/8, (tot.Bits[compress.Huffman]+7)/8, tot.Ratio(compress.Huffman), len(res.File))

	if cfg.NewModule != nil {
		decoded, err := compress.Unmarshal(res.File)
		if err != nil {
			return nil, err
		}
		if res.DecodedAcc, res.DecodedExact, err = CheckDecoded(net, cfg.NewModule, decoded, testSet); err != nil {
			return nil, err
		}
		cfg.printf("decoded from the file: test accuracy %.2f%%, logits identical: %v\n", 100*res.DecodedAcc, res.DecodedExact)
	}
	res.Net = net
	return res, nil
}

func evaluate(net *nn.Net, set train.Dataset) (float64, error) {
	if set == nil {
		return -1, nil
	}
	return train.Evaluate(train.NetModel(net), set)
}

// kept returns the kept fraction of the targets' weights.
func kept(ts []Target) float64 {
	var n, k int
	for _, t := range ts {
		sz := t.Weight.Value.Shape().TotalSize()
		n += sz
		if t.Weight.Mask == nil {
			k += sz
		} else {
			k += prune.Mask(t.Weight.Mask).Kept()
		}
	}
	return float64(k) / float64(n)
}

// fit trains net for epochs with a cosine-annealed rate and returns the
// test accuracy at the end.
func fit(ctx context.Context, net *nn.Net, trainSet, testSet train.Dataset, cfg Config, epochs int, lr float32, seed uint64, after func() error) (float64, error) {
	m := train.NetModel(net)
	tc := train.Config{Epochs: epochs, LR: lr, Optimizer: cfg.NewOptimizer(), Schedule: train.Cosine{Epochs: epochs},
		Seed: seed, EvalEvery: epochs, Progress: cfg.Progress, MaxStepsPerEpoch: cfg.MaxStepsPerEpoch, AfterStep: after}
	res, err := train.Fit(ctx, m, trainSet, testSet, tc)
	if err != nil {
		return 0, err
	}
	if res.TestAcc >= 0 || testSet == nil {
		return res.TestAcc, nil
	}
	return evaluate(net, testSet)
}

// Prune runs the iterative magnitude pruning of cfg on net in place: at each
// stage every layer's mask (Param.Mask) is narrowed to its stage target by
// weight magnitude, the pruned weights are zeroed, and the net is retrained
// with the masks re-applied after every optimizer step.
func Prune(ctx context.Context, net *nn.Net, trainSet, testSet train.Dataset, cfg Config) ([]Stage, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ts := Targets(net.Module())
	var stages []Stage
	for s := 1; s <= cfg.PruneStages; s++ {
		t0 := time.Now()
		pruned := false
		for _, t := range ts {
			k := cfg.keep(t.Name)
			if k >= 1 {
				continue
			}
			pruned = true
			k = math.Pow(k, float64(s)/float64(cfg.PruneStages))
			m, err := prune.MagnitudeMask(t.Weight.Float32s(), 1-k)
			if err != nil {
				return stages, fmt.Errorf("deepcompress: prune %s: %w", t.Name, err)
			}
			if t.Weight.Mask != nil {
				if m, err = m.Intersect(t.Weight.Mask); err != nil {
					return stages, err
				}
			}
			t.Weight.Mask = m
			if err := t.Weight.ApplyMask(); err != nil {
				return stages, err
			}
		}
		if !pruned {
			return stages, nil
		}
		name := fmt.Sprintf("prune %d/%d", s, cfg.PruneStages)
		cfg.printf("%s: kept %s\n", name, keptList(ts))
		var acc float64
		var err error
		if cfg.RetrainEpochs > 0 {
			acc, err = fit(ctx, net, trainSet, testSet, cfg, cfg.RetrainEpochs, cfg.LR, cfg.Seed+uint64(s), net.ApplyMasks)
		} else {
			acc, err = evaluate(net, testSet)
		}
		if err != nil {
			return stages, err
		}
		stages = append(stages, Stage{Name: name, Kept: kept(ts), TestAcc: acc, Epochs: cfg.RetrainEpochs, Seconds: time.Since(t0).Seconds()})
		cfg.printf("%s: test accuracy %.2f%%\n", name, 100*acc)
	}
	return stages, nil
}

func keptList(ts []Target) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %.1f%%", t.Name, 100*kept([]Target{t}))
	}
	return s
}

// Share clusters every compressible layer's kept weights into 2^bits
// centroids (k-means, linear initialisation over the kept weights), makes
// the layer's weight the codebook's output (nn.Param.Share) without a weight
// quantizer, and compiles the model anew; the caller closes net.
func Share(net *nn.Net, cfg Config) (*nn.Net, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	for _, t := range Targets(net.Module()) {
		cb, err := codebook.FromWeights(t.Name, t.Weight.Value.Shape(), t.Weight.Float32s(), t.Weight.Mask,
			cfg.bits(t), kmeans.Linear, nil, cfg.Rule)
		if err != nil {
			return nil, fmt.Errorf("deepcompress: %w", err)
		}
		cb.LRMult = cfg.CentroidLRScale
		if err := t.Weight.Share(cb); err != nil {
			return nil, err
		}
		t.dropWeightQuantizer()
	}
	return nn.Compile(net.Module(), net.Config())
}

// Layers returns the compressed layers of a model whose weights are shared
// (after Share): codebooks, indices, masks, FP32 biases, and the relative-
// position widths of cfg.
func Layers(m nn.Module, cfg Config) ([]compress.Layer, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	var out []compress.Layer
	for _, t := range Targets(m) {
		cb := t.Weight.Shared()
		if cb == nil {
			return nil, fmt.Errorf("%w: layer %s is not weight-shared", ErrModel, t.Name)
		}
		var bias []float32
		if t.Bias != nil {
			bias = t.Bias.Float32s()
		}
		l := cb.Layer(bias)
		l.RelBits = cfg.relBits(t)
		if err := l.Validate(); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// CheckDecoded decodes layers into a fresh model (Decode) and compares it
// with net on set (Compare).
func CheckDecoded(net *nn.Net, newModule func() (nn.Module, error), layers []compress.Layer, set train.Dataset) (acc float64, exact bool, err error) {
	dec, err := Decode(net, newModule, layers)
	if err != nil {
		return 0, false, err
	}
	defer dec.Close()
	return Compare(net, dec, set)
}

// Decode builds a fresh model with newModule, loads the decoded layers into
// it (Load), compiles it like net and copies the rest of net's state (other
// parameters by name, quantizer states): the model a compressed file
// describes, as ordinary dense parameters. The caller closes it.
func Decode(net *nn.Net, newModule func() (nn.Module, error), layers []compress.Layer) (*nn.Net, error) {
	m, err := newModule()
	if err != nil {
		return nil, err
	}
	if err := Load(m, layers); err != nil {
		return nil, err
	}
	dec, err := nn.Compile(m, net.Config())
	if err != nil {
		return nil, err
	}
	if err := copyRest(dec, net, Targets(m)); err != nil {
		dec.Close()
		return nil, err
	}
	return dec, nil
}

// copyRest copies what the compressed file does not hold from src to dst:
// parameters other than the compressed weights and biases, by name, and
// quantizer states.
func copyRest(dst, src *nn.Net, ts []Target) error {
	skip := map[*nn.Param]bool{}
	for _, t := range ts {
		skip[t.Weight] = true
		if t.Bias != nil {
			skip[t.Bias] = true
		}
	}
	byName := map[string]*nn.Param{}
	for _, p := range src.Params() {
		byName[p.Name] = p
	}
	for _, p := range dst.Params() {
		if skip[p] {
			continue
		}
		q, ok := byName[p.Name]
		if !ok {
			return fmt.Errorf("%w: parameter %s missing from the compressed model", ErrModel, p.Name)
		}
		if err := set(p, q.Float32s()); err != nil {
			return err
		}
	}
	qs := map[string]nn.NamedQuantizer{}
	for _, q := range src.Quantizers() {
		qs[q.Name] = q
	}
	for _, q := range dst.Quantizers() {
		s, ok := qs[q.Name]
		if !ok {
			return fmt.Errorf("%w: quantizer %s missing from the compressed model", ErrModel, q.Name)
		}
		b, err := s.Q.MarshalState()
		if err != nil {
			return err
		}
		if err := q.Q.UnmarshalState(b); err != nil {
			return fmt.Errorf("deepcompress: quantizer %s: %w", q.Name, err)
		}
	}
	return nil
}

// Compare runs a and b (compiled for the same batch) over set; it returns
// b's accuracy and whether all logits agree bit for bit.
func Compare(a, b *nn.Net, set train.Dataset) (float64, bool, error) {
	bs, k := a.Batch(), set.NumClasses()
	x := make([]float32, bs*set.SampleSize())
	labels := make([]int, bs)
	la, lb := make([]float32, bs*k), make([]float32, bs*k)
	idx := make([]int, bs)
	correct, exact := 0, true
	for i := 0; i < set.Len(); i += bs {
		n := min(bs, set.Len()-i)
		for j := range n {
			idx[j] = i + j
		}
		set.Fill(x, labels, idx[:n])
		xs := x[:n*set.SampleSize()]
		if err := a.Predict(xs, n, la[:n*k]); err != nil {
			return 0, false, err
		}
		if err := b.Predict(xs, n, lb[:n*k]); err != nil {
			return 0, false, err
		}
		for j := range n * k {
			if math.Float32bits(la[j]) != math.Float32bits(lb[j]) {
				exact = false
			}
		}
		for j := range n {
			if train.Argmax(lb[j*k:(j+1)*k]) == labels[j] {
				correct++
			}
		}
	}
	return float64(correct) / float64(set.Len()), exact, nil
}
