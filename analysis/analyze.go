package analysis

import (
	"fmt"
	"math"
	"slices"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/nn"
)

// TensorStats compares one tensor (a layer's weight or its output
// activation) with its quantized form.
type TensorStats struct {
	// Quantizer is the quantizer's name ("conv1.weight") and Scheme its grid.
	Quantizer string `json:"quantizer"`
	Scheme    string `json:"scheme,omitempty"`
	Bits      int    `json:"bits,omitempty"`
	// SQNR in dB of the quantized tensor against the float one.
	SQNR float64 `json:"sqnr_db"`
	// ClipRate is the fraction of float values outside the grid's range.
	ClipRate float64 `json:"clip_rate"`
	// Min and Max are the float tensor's range; GridMin and GridMax the
	// grid's representable range (the union over channels).
	Min     float32 `json:"min"`
	Max     float32 `json:"max"`
	GridMin float32 `json:"grid_min"`
	GridMax float32 `json:"grid_max"`
	// Scale and ZeroPoint: one entry per tensor or per channel.
	Scale     []float32 `json:"scale,omitempty"`
	ZeroPoint []int32   `json:"zero_point,omitempty"`
	// Note says why some figures are missing (a quantizer with no affine grid).
	Note string `json:"note,omitempty"`

	// Hist is a histogram of the float values, over a range that holds both
	// them and the grid; Grid are the grid's levels (of the widest channel)
	// when there are at most MaxGridLevels of them.
	Hist Histogram `json:"-"`
	Grid []float32 `json:"-"`
}

// Histogram counts values in equal bins over [Lo, Hi].
type Histogram struct {
	Lo, Hi float64
	Counts []int
}

// Layer is the analysis of one quantized layer.
type Layer struct {
	Name   string       `json:"name"`
	Kind   string       `json:"kind"`
	Weight *TensorStats `json:"weight,omitempty"`
	Output *TensorStats `json:"output,omitempty"`
	// OnlyAccuracy is the test accuracy with only this layer's quantizers
	// on; AccuracyDrop is the net's accuracy with every quantizer off minus
	// it. Absent without an accuracy function.
	OnlyAccuracy *float64 `json:"only_accuracy,omitempty"`
	AccuracyDrop *float64 `json:"accuracy_drop,omitempty"`
}

// Report is the analysis of a model.
type Report struct {
	Model string `json:"model,omitempty"`
	Quant string `json:"quant,omitempty"`
	// Reference says what the float twin is: "quantizers disabled" or a run.
	Reference     string   `json:"reference"`
	Images        int      `json:"calibration_images"`
	FloatAccuracy *float64 `json:"float_accuracy,omitempty"`
	QuantAccuracy *float64 `json:"quant_accuracy,omitempty"`
	// OwnFloatAccuracy is the quantized net's weights run in float, given
	// with a separate reference; accuracy drops are against it.
	OwnFloatAccuracy *float64 `json:"own_float_accuracy,omitempty"`
	Layers           []Layer  `json:"layers"`
}

// Options of Analyze.
type Options struct {
	// Ref is the float twin, or nil for Net with its quantizers disabled.
	// Its layers are paired with Net's by name.
	Ref *nn.Net
	// Images are the calibration images (count·C·H·W values), run through
	// both nets in batches of the nets' batch size.
	Images []float32
	// Accuracy evaluates a net as its quantizers are set now; nil skips
	// the accuracy columns.
	Accuracy func(*nn.Net) (float64, error)
	// Bins is the number of histogram bins (default 60).
	Bins int
}

// MaxGridLevels bounds the grid levels drawn on a histogram.
const MaxGridLevels = 256

// maxSamples bounds the activation values kept per layer for histograms.
const maxSamples = 1 << 16

// enabler is implemented by quantizers that report whether they are on.
type enabler interface{ Enabled() bool }

// Analyze compares net, a quantized net compiled with KeepActivations, with
// its float twin. It leaves net's quantizers as it found them.
func Analyze(net *nn.Net, opt Options) (*Report, error) {
	if net == nil {
		return nil, fmt.Errorf("%w: nil net", ErrInput)
	}
	if opt.Bins <= 0 {
		opt.Bins = 60
	}
	infos, _, err := net.Graph()
	if err != nil {
		return nil, fmt.Errorf("analysis: %w", err)
	}
	qs := net.Quantizers()
	if len(qs) == 0 {
		return nil, fmt.Errorf("%w: the net has no quantizers (an FP32 model)", ErrInput)
	}
	was := make([]bool, len(qs))
	for i, q := range qs {
		was[i] = true
		if e, ok := q.Q.(enabler); ok {
			was[i] = e.Enabled()
		}
	}
	defer func() {
		for i, q := range qs {
			q.Q.SetEnabled(was[i])
		}
	}()
	setAll := func(on bool) {
		for _, q := range qs {
			q.Q.SetEnabled(on)
		}
	}

	rep := &Report{Reference: "the same weights with quantizers disabled"}
	var refInfos map[string]nn.LayerInfo
	if opt.Ref != nil {
		ri, _, err := opt.Ref.Graph()
		if err != nil {
			return nil, fmt.Errorf("analysis: reference: %w", err)
		}
		refInfos = map[string]nn.LayerInfo{}
		for _, li := range ri {
			refInfos[li.Name] = li
		}
	}
	var layers []nn.LayerInfo
	for _, li := range infos {
		if li.WeightQ.Q != nil || li.OutputQ.Q != nil {
			layers = append(layers, li)
		}
	}
	for _, li := range layers {
		l := Layer{Name: li.Name, Kind: li.Kind}
		if li.WeightQ.Q != nil {
			ref := li.Weight
			if refInfos != nil {
				r, ok := refInfos[li.Name]
				if !ok || len(r.Weight) != len(ref) {
					return nil, fmt.Errorf("%w: reference has no layer %q with %d weights", ErrInput, li.Name, len(ref))
				}
				ref = r.Weight
			}
			ts, err := weightStats(li, ref, opt.Bins)
			if err != nil {
				return nil, err
			}
			l.Weight = ts
		}
		rep.Layers = append(rep.Layers, l)
	}
	if len(opt.Images) > 0 {
		if err := activationStats(net, opt, layers, rep, setAll); err != nil {
			return nil, err
		}
	}
	if opt.Accuracy != nil {
		if err := accuracies(net, opt, layers, rep, setAll); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// gridOf fills the grid fields of ts from qp.
func gridOf(ts *TensorStats, qp fakequant.QParams) {
	ts.Scheme, ts.Bits = qp.Scheme.String(), qp.Scheme.Bits
	ts.Scale = slices.Clone(qp.Scale)
	ts.ZeroPoint = slices.Clone(qp.ZeroPoint)
	qmin, qmax := qp.Scheme.QRange()
	widest := 0
	for c, s := range qp.Scale {
		lo := s * float32(qmin-qp.ZeroPoint[c])
		hi := s * float32(qmax-qp.ZeroPoint[c])
		if c == 0 || lo < ts.GridMin {
			ts.GridMin = lo
		}
		if c == 0 || hi > ts.GridMax {
			ts.GridMax = hi
		}
		if s > qp.Scale[widest] {
			widest = c
		}
	}
	if int(qmax-qmin)+1 <= MaxGridLevels && len(qp.Scale) > 0 {
		s, z := qp.Scale[widest], qp.ZeroPoint[widest]
		for q := qmin; q <= qmax; q++ {
			ts.Grid = append(ts.Grid, s*float32(q-z))
		}
	}
}

// weightStats compares ref (the float twin's weight: the layer's own, or a
// separate float model's) with the layer's weight on its grid; the range,
// clipping and histogram are of the weight the grid quantizes.
func weightStats(li nn.LayerInfo, ref []float32, bins int) (*TensorStats, error) {
	w := li.Weight
	ts := &TensorStats{Quantizer: li.WeightQ.Name}
	ts.Min, ts.Max = minMax(w)
	qp, err := li.WeightQ.Q.QParams()
	if err != nil {
		ts.Note = fmt.Sprintf("no affine grid: %v", err)
		ts.Hist = histogram(w, float64(ts.Min), float64(ts.Max), bins)
		return ts, nil
	}
	gridOf(ts, qp)
	fq := make([]float32, len(w))
	mask := make([]bool, len(w))
	if err := fakequant.FakeQuantize(fq, mask, w, qp, li.WeightShape); err != nil {
		return nil, fmt.Errorf("analysis: layer %s: %w", li.Name, err)
	}
	if ts.SQNR, err = SQNR(ref, fq); err != nil {
		return nil, err
	}
	clipped := 0
	for _, in := range mask {
		if !in {
			clipped++
		}
	}
	ts.ClipRate = float64(clipped) / float64(len(w))
	ts.Hist = histogram(w, math.Min(float64(ts.Min), float64(ts.GridMin)), math.Max(float64(ts.Max), float64(ts.GridMax)), bins)
	return ts, nil
}

// actAcc accumulates one layer's output statistics over batches.
type actAcc struct {
	sqnr       sqnrAcc
	clipped, n int
	min, max   float32
	samples    []float32
	qp         *fakequant.QParams
	lo, hi     float32
}

func activationStats(net *nn.Net, opt Options, layers []nn.LayerInfo, rep *Report, setAll func(bool)) error {
	cfg := net.Config()
	per := cfg.InputShape[0] * cfg.InputShape[1] * cfg.InputShape[2]
	if len(opt.Images)%per != 0 {
		return fmt.Errorf("%w: %d image values, not a multiple of %d", ErrInput, len(opt.Images), per)
	}
	ref := opt.Ref
	if ref != nil && ref.Config().InputShape != cfg.InputShape {
		return fmt.Errorf("%w: reference input shape %v, net %v", ErrInput, ref.Config().InputShape, cfg.InputShape)
	}
	count := len(opt.Images) / per
	rep.Images = count
	accs := make([]actAcc, len(layers))
	for i, li := range layers {
		if li.OutputQ.Q == nil {
			continue
		}
		if qp, err := li.OutputQ.Q.QParams(); err == nil {
			accs[i].qp = &qp
			var ts TensorStats
			gridOf(&ts, qp)
			accs[i].lo, accs[i].hi = ts.GridMin, ts.GridMax
		}
	}
	logits := make([]float32, cfg.Batch*cfg.Classes)
	refLogits := logits
	if ref != nil {
		refLogits = make([]float32, ref.Batch()*ref.Config().Classes)
	}
	outputs := func(n *nn.Net, li nn.LayerInfo, k int) ([]float32, error) {
		v, err := n.LayerOutput(li.Name)
		if err != nil {
			return nil, fmt.Errorf("analysis: %w", err)
		}
		sz := 1
		for _, d := range li.OutShape {
			sz *= d
		}
		if len(v) < k*sz {
			return nil, fmt.Errorf("%w: layer %s: %d outputs for %d samples of %d", ErrInput, li.Name, len(v), k, sz)
		}
		return v[:k*sz], nil
	}
	floats := make([][]float32, len(layers))
	for start := 0; start < count; {
		fnet, fb := net, cfg.Batch
		if ref != nil {
			fnet, fb = ref, ref.Batch()
		}
		k := min(count-start, cfg.Batch, fb)
		x := opt.Images[start*per : (start+k)*per]
		if ref == nil {
			setAll(false)
		}
		if err := fnet.Predict(x, k, refLogits); err != nil {
			return fmt.Errorf("analysis: float run: %w", err)
		}
		for i, li := range layers {
			v, err := outputs(fnet, li, k)
			if err != nil {
				return err
			}
			floats[i] = v
		}
		setAll(true)
		if err := net.Predict(x, k, logits); err != nil {
			return fmt.Errorf("analysis: quantized run: %w", err)
		}
		for i, li := range layers {
			q, err := outputs(net, li, k)
			if err != nil {
				return err
			}
			a := &accs[i]
			f := floats[i]
			if err := a.sqnr.add(f, q); err != nil {
				return fmt.Errorf("analysis: layer %s: %w", li.Name, err)
			}
			for _, v := range f {
				if a.n == 0 || v < a.min {
					a.min = v
				}
				if a.n == 0 || v > a.max {
					a.max = v
				}
				a.n++
				if a.qp != nil && (v < a.lo || v > a.hi) {
					a.clipped++
				}
			}
			if room := maxSamples - len(a.samples); room > 0 {
				a.samples = append(a.samples, f[:min(room, len(f))]...)
			}
		}
		start += k
	}
	for i, li := range layers {
		a := &accs[i]
		ts := &TensorStats{SQNR: a.sqnr.db(), Min: a.min, Max: a.max}
		if li.OutputQ.Q != nil {
			ts.Quantizer = li.OutputQ.Name
		}
		lo, hi := float64(a.min), float64(a.max)
		if a.qp != nil {
			gridOf(ts, *a.qp)
			ts.ClipRate = float64(a.clipped) / float64(max(a.n, 1))
			lo, hi = math.Min(lo, float64(ts.GridMin)), math.Max(hi, float64(ts.GridMax))
		} else if li.OutputQ.Q != nil {
			ts.Note = "no affine grid"
		} else {
			ts.Note = "no output quantizer (the error is the inputs')"
		}
		ts.Hist = histogram(a.samples, lo, hi, opt.Bins)
		rep.Layers[i].Output = ts
	}
	return nil
}

func accuracies(net *nn.Net, opt Options, layers []nn.LayerInfo, rep *Report, setAll func(bool)) error {
	// Drops are against the net's own weights in float, so that with a
	// separate reference they measure quantization, not the other training.
	setAll(false)
	own, err := opt.Accuracy(net)
	if err != nil {
		return fmt.Errorf("analysis: float accuracy: %w", err)
	}
	fa := own
	if opt.Ref != nil {
		if fa, err = opt.Accuracy(opt.Ref); err != nil {
			return fmt.Errorf("analysis: reference accuracy: %w", err)
		}
		rep.OwnFloatAccuracy = &own
	}
	setAll(true)
	qa, err := opt.Accuracy(net)
	if err != nil {
		return fmt.Errorf("analysis: quantized accuracy: %w", err)
	}
	rep.FloatAccuracy, rep.QuantAccuracy = &fa, &qa
	for i, li := range layers {
		setAll(false)
		for _, q := range []nn.NamedQuantizer{li.WeightQ, li.OutputQ} {
			if q.Q != nil {
				q.Q.SetEnabled(true)
			}
		}
		a, err := opt.Accuracy(net)
		if err != nil {
			return fmt.Errorf("analysis: layer %s alone: %w", li.Name, err)
		}
		d := own - a
		rep.Layers[i].OnlyAccuracy, rep.Layers[i].AccuracyDrop = &a, &d
	}
	return nil
}

func minMax(v []float32) (lo, hi float32) {
	for i, x := range v {
		if i == 0 || x < lo {
			lo = x
		}
		if i == 0 || x > hi {
			hi = x
		}
	}
	return lo, hi
}

func histogram(v []float32, lo, hi float64, bins int) Histogram {
	if !(hi > lo) {
		lo, hi = lo-0.5, hi+0.5
	}
	h := Histogram{Lo: lo, Hi: hi, Counts: make([]int, bins)}
	w := (hi - lo) / float64(bins)
	for _, x := range v {
		b := int((float64(x) - lo) / w)
		if b < 0 || b >= bins {
			if b == bins && float64(x) <= hi {
				b = bins - 1
			} else {
				continue // non-finite
			}
		}
		h.Counts[b]++
	}
	return h
}
