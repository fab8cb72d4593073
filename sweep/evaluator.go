package sweep

import (
	"context"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/codebook"
	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/kmeans"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/train"
)

// Finetune configures the fine-tuning of points with Epochs > 0 (and of
// the FP32 controls, which use the same settings).
type Finetune struct {
	LR          float32 // SGD learning rate (required when fine-tuning)
	Momentum    float32 // default 0 (plain SGD); the CLI passes 0.9
	WeightDecay float32
	// CentroidRule reduces the weight gradients of a k-means cluster into
	// its centroid's gradient: codebook.Sum (the exact gradient, Deep
	// Compression) or codebook.Mean.
	CentroidRule codebook.Rule
	// MaxStepsPerEpoch limits an epoch to that many batches (0: all).
	MaxStepsPerEpoch int
}

// NetEvaluator evaluates points on a trained FP32 nn model: it builds a
// fresh net per point (so points run concurrently), replaces the weights of
// the point's layers by their quantized values, optionally fine-tunes, and
// returns the test accuracy and loss.
//
// Fine-tuning keeps a float master copy of every quantized weight: each
// step runs forward and backward with the quantized weights and applies the
// gradient to the master copy (the straight-through estimator; for weights
// with min-max ranges nothing is clipped, so this is exactly weight-only
// fake-quant QAT with a min-max observer updated every step). For k-means the
// cluster indices stay fixed and the gradient is reduced per cluster into
// the centroids (CentroidRule). Batch norms use their running statistics
// during fine-tuning (frozen), for quantized points and controls alike, and a
// conv layer followed by a batch norm (ConvBn) is quantized in its folded
// form W·γ/σ, as the integer model stores it.
type NetEvaluator struct {
	// NewNet returns a compiled FP32 net holding the trained weights; seed
	// seeds anything random in the model (dropout). It is called
	// concurrently.
	NewNet      func(seed uint64) (*nn.Net, error)
	Train, Test *datasets.Dataset
	Finetune    Finetune
}

// ModelLayers lists the conv and fc layers of a net whose module is an
// nn.Model (zoo.New, qconfig.Prepare), however deeply nested.
func ModelLayers(net *nn.Net) ([]Layer, error) {
	ws, err := weightLayers(net)
	if err != nil {
		return nil, err
	}
	out := make([]Layer, len(ws))
	for i, w := range ws {
		out[i] = Layer{Name: w.name, Kind: w.kind}
	}
	return out, nil
}

// weightLayer is a quantizable layer: its weight and, for ConvBn, its
// batch norm (whose scale γ/σ folds into the weight).
type weightLayer struct {
	name string
	kind LayerKind
	w    *nn.Param
	bn   *nn.BatchNorm2d
}

func weightLayers(net *nn.Net) ([]weightLayer, error) {
	m, ok := net.Module().(*nn.Model)
	if !ok || m.Body == nil {
		return nil, fmt.Errorf("sweep: module %T is not an nn.Model", net.Module())
	}
	var out []weightLayer
	err := nn.Walk(m.Body, func(l nn.Module) error {
		switch l := l.(type) {
		case *nn.Linear:
			out = append(out, weightLayer{name: l.LayerName, kind: FC, w: l.Weight})
		case *nn.Conv2d:
			out = append(out, weightLayer{name: l.LayerName, kind: Conv, w: l.Weight})
		case *nn.ConvBn:
			out = append(out, weightLayer{name: l.Conv.LayerName, kind: Conv, w: l.Conv.Weight, bn: l.BN})
		}
		return nil
	})
	return out, err
}

// fold returns γ/√(running_var+ε) per output channel, or nil without a
// batch norm.
func (l weightLayer) fold() []float32 {
	if l.bn == nil {
		return nil
	}
	g, v := l.bn.Gamma.Float32s(), l.bn.RunningVar.Float32s()
	s := make([]float32, len(g))
	for i := range s {
		s[i] = float32(float64(g[i]) / math.Sqrt(float64(v[i])+l.bn.Eps))
	}
	return s
}

// qlayer is one quantized layer during a point's evaluation.
type qlayer struct {
	weightLayer
	a      Assignment
	shape  []int
	master []float32 // float weights (linear, pow2, floats), unfolded
	cb     *codebook.Codebook
	cgrad  []float32 // centroid gradient (k-means)
	tmp    []float32
}

// apply writes the quantized weights into the layer's parameter.
func (q *qlayer) apply() error {
	w := q.w.Value.Data().([]float32)
	s := q.fold()
	per := len(w) / q.shape[0]
	if q.cb != nil {
		cent := q.cb.Centroids.Data().([]float32)
		for i, a := range q.cb.Indices {
			w[i] = cent[a]
		}
	} else {
		copy(q.tmp, q.master)
		if s != nil {
			for i := range q.tmp {
				q.tmp[i] *= s[i/per]
			}
		}
		if err := QuantizeWeights(w, q.tmp, q.shape, q.a.Method, q.a.Bits); err != nil {
			return fmt.Errorf("sweep: %s: %w", q.name, err)
		}
	}
	if s != nil {
		for i := range w {
			w[i] /= s[i/per]
		}
	}
	return nil
}

// centroidGrad reduces the weight gradient into the centroids'. With a
// folded batch norm the stored weight is c/s, so dL/dc = Σ dL/dw / s.
func (q *qlayer) centroidGrad(rule codebook.Rule) {
	g := q.w.Grad.Data().([]float32)
	s := q.fold()
	per := len(g) / q.shape[0]
	clear(q.cgrad)
	count := make([]int, len(q.cgrad))
	for i, a := range q.cb.Indices {
		v := g[i]
		if s != nil {
			v /= s[i/per]
		}
		q.cgrad[a] += v
		count[a]++
	}
	if rule == codebook.Mean {
		for k := range q.cgrad {
			if count[k] > 0 {
				q.cgrad[k] /= float32(count[k])
			}
		}
	}
}

// qmodel is a train.Model whose quantized layers run on quantized weights
// and train their master copies or centroids.
type qmodel struct {
	train.Model
	qs    []*qlayer
	rule  codebook.Rule
	dirty bool // masters changed since the last apply
}

func (m *qmodel) sync() error {
	if !m.dirty {
		return nil
	}
	for _, q := range m.qs {
		if err := q.apply(); err != nil {
			return err
		}
	}
	m.dirty = false
	return nil
}

func (m *qmodel) Step(x []float32, labels []int) (float32, int, error) {
	if err := m.sync(); err != nil {
		return 0, 0, err
	}
	loss, c, err := m.Model.Step(x, labels)
	for _, q := range m.qs {
		if q.cb != nil {
			q.centroidGrad(m.rule)
		}
	}
	m.dirty = true // the optimizer is about to update the masters
	return loss, c, err
}

func (m *qmodel) Predict(x []float32, count int, logits []float32) error {
	if err := m.sync(); err != nil {
		return err
	}
	return m.Model.Predict(x, count, logits)
}

// Trainable swaps each quantized weight's value for its master copy (same
// gradient: the straight-through estimator), or for the centroids.
func (m *qmodel) Trainable() []train.Tensor {
	ts := m.Model.Trainable()
	for i, t := range ts {
		for _, q := range m.qs {
			if t.Name != q.w.Name {
				continue
			}
			if q.cb != nil {
				ts[i] = train.Tensor{Name: q.name + ".centroids", Value: q.cb.Centroids.Data().([]float32), Grad: q.cgrad, LRScale: 1}
			} else {
				ts[i].Value = q.master
			}
		}
	}
	return ts
}

// Evaluate implements Evaluator.
func (e *NetEvaluator) Evaluate(ctx context.Context, p Point) (PointResult, error) {
	if err := ctx.Err(); err != nil {
		return PointResult{}, err
	}
	net, err := e.NewNet(p.Seed)
	if err != nil {
		return PointResult{}, err
	}
	defer net.Close()
	ws, err := weightLayers(net)
	if err != nil {
		return PointResult{}, err
	}
	m := &qmodel{Model: train.NetModel(net), rule: e.Finetune.CentroidRule, dirty: true}
	for _, a := range p.Assign {
		i := -1
		for j, w := range ws {
			if w.name == a.Layer {
				i = j
			}
		}
		if i < 0 {
			return PointResult{}, fmt.Errorf("sweep: point %s: the model has no layer %q", p.ID, a.Layer)
		}
		q := &qlayer{weightLayer: ws[i], a: a, shape: ws[i].w.Value.Shape().Clone()}
		w := q.w.Float32s()
		if a.Method == KMeans {
			if s := q.fold(); s != nil {
				per := len(w) / q.shape[0]
				for i := range w {
					w[i] *= s[i/per]
				}
			}
			if q.cb, err = codebook.FromWeights(q.name, q.shape, w, nil, a.Bits, kmeans.Linear, nil, e.Finetune.CentroidRule); err != nil {
				return PointResult{}, fmt.Errorf("sweep: point %s: %w", p.ID, err)
			}
			if _, ok := q.cb.Centroids.Data().([]float32); !ok {
				return PointResult{}, fmt.Errorf("sweep: %s: centroids are not float32", q.name)
			}
			q.cgrad = make([]float32, q.cb.K())
		} else {
			q.master, q.tmp = w, make([]float32, len(w))
		}
		m.qs = append(m.qs, q)
	}
	res := PointResult{}
	if p.Epochs > 0 {
		ft := e.Finetune
		if !(ft.LR > 0) {
			return PointResult{}, fmt.Errorf("sweep: fine-tuning needs a learning rate > 0")
		}
		cfg := train.Config{Epochs: p.Epochs, LR: ft.LR, Seed: p.Seed, EvalEvery: -1,
			Optimizer:        &train.SGD{Momentum: ft.Momentum, WeightDecay: ft.WeightDecay},
			Callbacks:        []train.Callback{train.FreezeBNAt(0)},
			MaxStepsPerEpoch: ft.MaxStepsPerEpoch}
		r, err := train.Fit(ctx, m, train.FromDataset(e.Train), nil, cfg)
		if err != nil {
			return PointResult{}, fmt.Errorf("sweep: point %s: fine-tuning: %w", p.ID, err)
		}
		if n := len(r.History); n > 0 {
			res.TrainLoss = r.History[n-1].TrainLoss
		}
	}
	if err := ctx.Err(); err != nil {
		return PointResult{}, err
	}
	acc, loss, err := train.EvaluateLoss(m, train.FromDataset(e.Test))
	if err != nil {
		return PointResult{}, fmt.Errorf("sweep: point %s: %w", p.ID, err)
	}
	res.Accuracy, res.TestLoss = acc, &loss
	return res, nil
}

// WeightNoise returns, per conv and fc layer of net (as ModelLayers names
// them), the squared error Σ(w − Q(w))² of its weights quantized by method m
// at bits b, in the form the integer model stores (W·γ/σ for a conv with a
// folded batch norm). It costs one pass over the weights, no evaluation.
func WeightNoise(net *nn.Net, m Method, b int) (map[string]float64, error) {
	ws, err := weightLayers(net)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(ws))
	for _, l := range ws {
		w := l.w.Float32s() // a copy
		shape := l.w.Value.Shape()
		if s := l.fold(); s != nil {
			per := len(w) / shape[0]
			for i := range w {
				w[i] *= s[i/per]
			}
		}
		q := make([]float32, len(w))
		if err := QuantizeWeights(q, w, shape, m, b); err != nil {
			return nil, fmt.Errorf("sweep: %s: %w", l.name, err)
		}
		var e float64
		for i := range w {
			d := float64(w[i]) - float64(q[i])
			e += d * d
		}
		out[l.name] = e
	}
	return out, nil
}
