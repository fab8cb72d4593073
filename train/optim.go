package train

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/internal/parallel"
)

// Tensor is one trainable array as an optimizer sees it: its values, its
// gradient of the same length, whether weight decay applies, and a
// learning-rate multiplier (0 is taken as 1).
type Tensor struct {
	Name    string
	Value   []float32
	Grad    []float32
	Decay   bool
	LRScale float32
}

// Optimizer updates tensors from their gradients.
type Optimizer interface {
	// Step applies one update with learning rate lr. The tensors must be the
	// same, in the same order, at every call: optimizers keep per-tensor state.
	Step(ts []Tensor, lr float32) error
	// MarshalState and UnmarshalState save and restore the optimizer's state
	// (momentum buffers, moment estimates, step count) for checkpoints.
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
	String() string
}

// SGD is stochastic gradient descent with optional momentum and (coupled, L2)
// weight decay, as torch.optim.SGD with dampening 0:
//
//	g = grad + wd·w;  buf = g (first step) or momentum·buf + g;  w -= lr·buf
//
// (with Nesterov: w -= lr·(g + momentum·buf)).
type SGD struct {
	Momentum    float32
	WeightDecay float32
	Nesterov    bool

	bufs [][]float32
}

// Step implements Optimizer.
func (o *SGD) Step(ts []Tensor, lr float32) error {
	if err := checkTensors(ts); err != nil {
		return err
	}
	if o.Momentum != 0 && o.bufs == nil {
		o.bufs = make([][]float32, len(ts))
	}
	if o.bufs != nil && len(o.bufs) != len(ts) {
		return fmt.Errorf("train: SGD state holds %d tensors, step given %d", len(o.bufs), len(ts))
	}
	for i, t := range ts {
		step := lr * lrScale(t)
		wd := float32(0)
		if t.Decay {
			wd = o.WeightDecay
		}
		w, g := t.Value, t.Grad[:len(t.Value)]
		if o.Momentum == 0 {
			// split as with momentum: each core updates the part it
			// wrote the gradient of and reads next
			parallel.For(len(w), parallel.Chunks(len(w), sgdGrain), 1, func(_, lo, hi int) {
				sgdPlain(w[lo:hi], g[lo:hi], step, wd)
			})
			continue
		}
		buf := o.bufs[i]
		first := buf == nil
		if first {
			buf = make([]float32, len(w))
			o.bufs[i] = buf
		} else if len(buf) != len(w) {
			return fmt.Errorf("train: SGD state for %q has %d values, tensor %d", t.Name, len(buf), len(w))
		}
		m, nesterov := o.Momentum, o.Nesterov
		// Elements are independent: large tensors split over the cores
		// (the same arithmetic per element, so the same bits).
		parallel.For(len(w), parallel.Chunks(len(w), sgdGrain), 1, func(_, lo, hi int) {
			sgdMomentum(w[lo:hi], g[lo:hi], buf[lo:hi], step, wd, m, first, nesterov)
		})
	}
	return nil
}

// sgdGrain is the fewest parameters a core updates when SGD splits a
// tensor.
const sgdGrain = 1 << 15

// sgdPlain is SGD without momentum on one run of parameters.
func sgdPlain(w, g []float32, step, wd float32) {
	g = g[:len(w)]
	for j := range w {
		w[j] -= step * (g[j] + wd*w[j])
	}
}

// sgdMomentum is SGD with momentum on one run of parameters (buf set from
// the gradient when first).
func sgdMomentum(w, g, buf []float32, step, wd, m float32, first, nesterov bool) {
	g, buf = g[:len(w)], buf[:len(w)]
	for j := range w {
		gj := g[j] + wd*w[j]
		if first {
			buf[j] = gj
		} else {
			buf[j] = m*buf[j] + gj
		}
		if nesterov {
			w[j] -= step * (gj + m*buf[j])
		} else {
			w[j] -= step * buf[j]
		}
	}
}

func (o *SGD) String() string {
	return fmt.Sprintf("SGD(momentum=%g, weight_decay=%g, nesterov=%v)", o.Momentum, o.WeightDecay, o.Nesterov)
}

// MarshalState implements Optimizer.
func (o *SGD) MarshalState() ([]byte, error) {
	return marshalBuffers("sgd", 0, o.bufs), nil
}

// UnmarshalState implements Optimizer.
func (o *SGD) UnmarshalState(b []byte) error {
	_, bufs, err := unmarshalBuffers("sgd", b, 1)
	if err != nil {
		return err
	}
	o.bufs = bufs[0]
	return nil
}

// Adam is torch.optim.Adam (L2 weight decay added to the gradient) or, with
// Decoupled, AdamW (w -= lr·wd·w separately).
type Adam struct {
	Beta1, Beta2 float32 // 0 means the defaults 0.9 and 0.999
	Eps          float32 // 0 means 1e-8
	WeightDecay  float32
	Decoupled    bool

	t    int64
	m, v [][]float32
}

func (o *Adam) params() (b1, b2, eps float64) {
	b1, b2, eps = float64(o.Beta1), float64(o.Beta2), float64(o.Eps)
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	return
}

// Step implements Optimizer.
func (o *Adam) Step(ts []Tensor, lr float32) error {
	if err := checkTensors(ts); err != nil {
		return err
	}
	if o.m == nil {
		o.m = make([][]float32, len(ts))
		o.v = make([][]float32, len(ts))
	}
	if len(o.m) != len(ts) {
		return fmt.Errorf("train: Adam state holds %d tensors, step given %d", len(o.m), len(ts))
	}
	o.t++
	b1, b2, eps := o.params()
	bc1 := 1 - math.Pow(b1, float64(o.t))
	bc2 := 1 - math.Pow(b2, float64(o.t))
	for i, t := range ts {
		w, g := t.Value, t.Grad[:len(t.Value)]
		if o.m[i] == nil {
			o.m[i] = make([]float32, len(w))
			o.v[i] = make([]float32, len(w))
		}
		m, v := o.m[i], o.v[i]
		if len(m) != len(w) {
			return fmt.Errorf("train: Adam state for %q has %d values, tensor %d", t.Name, len(m), len(w))
		}
		step := float64(lr * lrScale(t))
		wd := float32(0)
		if t.Decay {
			wd = o.WeightDecay
		}
		stepSize := float32(step / bc1)
		sqrtBC2 := float32(math.Sqrt(bc2))
		fb1, fb2, feps := float32(b1), float32(b2), float32(eps)
		for j := range w {
			gj := g[j]
			if o.Decoupled {
				w[j] -= float32(step) * wd * w[j]
			} else {
				gj += wd * w[j]
			}
			m[j] = fb1*m[j] + (1-fb1)*gj
			v[j] = fb2*v[j] + (1-fb2)*gj*gj
			denom := float32(math.Sqrt(float64(v[j])))/sqrtBC2 + feps
			w[j] -= stepSize * m[j] / denom
		}
	}
	return nil
}

func (o *Adam) String() string {
	b1, b2, eps := o.params()
	name := "Adam"
	if o.Decoupled {
		name = "AdamW"
	}
	return fmt.Sprintf("%s(betas=(%g, %g), eps=%g, weight_decay=%g)", name, b1, b2, eps, o.WeightDecay)
}

// MarshalState implements Optimizer.
func (o *Adam) MarshalState() ([]byte, error) {
	return marshalBuffers("adam", o.t, o.m, o.v), nil
}

// UnmarshalState implements Optimizer.
func (o *Adam) UnmarshalState(b []byte) error {
	t, bufs, err := unmarshalBuffers("adam", b, 2)
	if err != nil {
		return err
	}
	o.t, o.m, o.v = t, bufs[0], bufs[1]
	return nil
}

// NewOptimizer returns the optimizer named "sgd" or "adam"/"adamw".
func NewOptimizer(name string, momentum, weightDecay float32) (Optimizer, error) {
	switch name {
	case "sgd":
		return &SGD{Momentum: momentum, WeightDecay: weightDecay}, nil
	case "adam":
		return &Adam{WeightDecay: weightDecay}, nil
	case "adamw":
		return &Adam{WeightDecay: weightDecay, Decoupled: true}, nil
	}
	return nil, fmt.Errorf("train: unknown optimizer %q (want sgd, adam or adamw)", name)
}

func lrScale(t Tensor) float32 {
	if t.LRScale == 0 {
		return 1
	}
	return t.LRScale
}

func checkTensors(ts []Tensor) error {
	for _, t := range ts {
		if len(t.Grad) != len(t.Value) {
			return fmt.Errorf("train: tensor %q has %d values but %d gradients", t.Name, len(t.Value), len(t.Grad))
		}
	}
	return nil
}

// ErrBadOptimizerState reports optimizer state that cannot be restored.
var ErrBadOptimizerState = errors.New("train: corrupt or mismatched optimizer state")

// The state layout: kind tag, version, step count, then for each buffer set
// the number of tensors and, per tensor, its length (-1 for none) and values.
const optimStateVersion = 1

func marshalBuffers(kind string, t int64, sets ...[][]float32) []byte {
	b := binary.AppendUvarint(nil, uint64(len(kind)))
	b = append(b, kind...)
	b = binary.AppendUvarint(b, optimStateVersion)
	b = binary.AppendVarint(b, t)
	b = binary.AppendUvarint(b, uint64(len(sets)))
	for _, set := range sets {
		b = binary.AppendUvarint(b, uint64(len(set)))
		for _, buf := range set {
			if buf == nil {
				b = binary.AppendVarint(b, -1)
				continue
			}
			b = binary.AppendVarint(b, int64(len(buf)))
			for _, x := range buf {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
			}
		}
	}
	return b
}

func unmarshalBuffers(kind string, b []byte, nsets int) (int64, [][][]float32, error) {
	bad := func(why string) (int64, [][][]float32, error) {
		return 0, nil, fmt.Errorf("%w: %s", ErrBadOptimizerState, why)
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return bad("truncated kind")
	}
	if got := string(b[k : k+int(n)]); got != kind {
		return bad(fmt.Sprintf("state is for %q, optimizer is %q", got, kind))
	}
	b = b[k+int(n):]
	ver, k := binary.Uvarint(b)
	if k <= 0 || ver != optimStateVersion {
		return bad(fmt.Sprintf("version %d, want %d", ver, optimStateVersion))
	}
	b = b[k:]
	t, k := binary.Varint(b)
	if k <= 0 {
		return bad("truncated step count")
	}
	b = b[k:]
	ns, k := binary.Uvarint(b)
	if k <= 0 || int(ns) != nsets {
		return bad("wrong number of buffer sets")
	}
	b = b[k:]
	sets := make([][][]float32, nsets)
	for s := range sets {
		cnt, k := binary.Uvarint(b)
		if k <= 0 || cnt > uint64(len(b)) {
			return bad("truncated tensor count")
		}
		b = b[k:]
		set := make([][]float32, cnt)
		for i := range set {
			l, k := binary.Varint(b)
			if k <= 0 || l < -1 || l > int64(len(b)/4) {
				return bad("truncated tensor length")
			}
			b = b[k:]
			if l < 0 {
				continue
			}
			if int64(len(b)) < 4*l {
				return bad("truncated values")
			}
			buf := make([]float32, l)
			for j := range buf {
				buf[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
			}
			set[i] = buf
			b = b[4*l:]
		}
		sets[s] = set
	}
	if len(b) != 0 {
		return bad(fmt.Sprintf("%d trailing bytes", len(b)))
	}
	return t, sets, nil
}
