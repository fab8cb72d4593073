package nn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/numerics"
)

// ErrQuantSpec is returned (wrapped) for quantization specs and override
// files that cannot be parsed.
var ErrQuantSpec = errors.New("nn: bad quantization spec")

// TensorQuant says how one kind of tensor (weights or activations) is
// fake-quantized.
type TensorQuant struct {
	Scheme fakequant.QScheme
	// Observer is the observer kind: "minmax", "ema", "histogram", "mse",
	// "entropy".
	Observer string
	// Method is "affine" (observer ranges, straight-through gradient), "lsq"
	// (learned step size), "pot" (power-of-two scales) or a float format
	// ("fp16", "bf16", "tf32", "fp8-e4m3", "fp8-e5m2": values rounded to that
	// format; Scheme and Observer are then unused).
	Method string
}

// LayerOverride changes the quantization of one layer; nil fields keep the
// model-wide setting. It is read from JSON, e.g.
// {"fc2": {"weight_bits": 8}, "conv1": {"weight_bits": 4, "per_channel": false}}.
type LayerOverride struct {
	WeightBits     *int    `json:"weight_bits,omitempty"`
	ActBits        *int    `json:"act_bits,omitempty"`
	PerChannel     *bool   `json:"per_channel,omitempty"`
	WeightObserver *string `json:"weight_observer,omitempty"`
	ActObserver    *string `json:"act_observer,omitempty"`
	// Float keeps the layer's weight and output in float32.
	Float *bool `json:"float,omitempty"`
}

// QuantConfig is a model-wide quantization setting plus per-layer overrides.
// Weight or Act nil means that kind of tensor stays float; both nil is FP32
// training. The input quantizer uses Act.
type QuantConfig struct {
	Spec        string
	Weight, Act *TensorQuant
	Overrides   map[string]LayerOverride
	// EdgeActBits, when > 0, is the bit width of the network's input and of
	// the last quantized layer's output (the logits), whatever Act says
	// (spec option io8): low-bit networks usually keep both at 8 bits.
	EdgeActBits int
}

// FP32 is the configuration without quantizers.
var FP32 = QuantConfig{Spec: "fp32"}

// ParseQuantConfig parses a spec: "fp32", or "w<bits>a<bits>" followed by
// comma-separated options:
//
//	per-tensor | per-channel   weight granularity (default per-channel)
//	narrow                     signed narrow weight range ([-127, 127] for 8 bits)
//	wobs=KIND, aobs=KIND       observers (defaults minmax for weights, ema for activations)
//	method=affine|lsq|pot      quantizer kind for weights and activations (default affine)
//	io8                        the input and the last layer's output (logits) at 8 bits
//
// A float format name ("fp16", "bf16", "tf32", "fp8-e4m3", "fp8-e5m2")
// simulates weights and activations in that format instead.
//
// Bits are 1..16; 32 keeps that side float ("w4a32" quantizes weights only).
// The defaults are PyTorch's: weights int symmetric per-channel (axis 0),
// activations uint affine per-tensor.
func ParseQuantConfig(spec string) (QuantConfig, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	if s == "fp32" || s == "" {
		return QuantConfig{Spec: "fp32"}, nil
	}
	if f, err := numerics.FormatByName(s); err == nil {
		t := TensorQuant{Method: strings.ToLower(f.Name)}
		w, a := t, t
		return QuantConfig{Spec: s, Weight: &w, Act: &a}, nil
	}
	parts := strings.Split(s, ",")
	head := parts[0]
	ai := strings.IndexByte(head, 'a')
	if !strings.HasPrefix(head, "w") || ai < 2 {
		return QuantConfig{}, fmt.Errorf("%w %q: want fp32, w<bits>a<bits>[,options] or a float format (fp16, bf16, tf32, fp8-e4m3, fp8-e5m2)", ErrQuantSpec, spec)
	}
	wb, err1 := strconv.Atoi(head[1:ai])
	ab, err2 := strconv.Atoi(head[ai+1:])
	if err1 != nil || err2 != nil {
		return QuantConfig{}, fmt.Errorf("%w %q: bit widths are not integers", ErrQuantSpec, spec)
	}
	for _, b := range []int{wb, ab} {
		if (b < 1 || b > 16) && b != 32 {
			return QuantConfig{}, fmt.Errorf("%w %q: bit width %d not in 1..16 (or 32 for float)", ErrQuantSpec, spec, b)
		}
	}
	w := TensorQuant{Scheme: fakequant.QScheme{Bits: wb, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel},
		Observer: "minmax", Method: "affine"}
	a := TensorQuant{Scheme: fakequant.QScheme{Bits: ab}, Observer: "ema", Method: "affine"}
	edge := 0
	for _, opt := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
		switch k {
		case "per-tensor", "pertensor":
			w.Scheme.Granularity = fakequant.PerTensor
		case "per-channel", "perchannel":
			w.Scheme.Granularity = fakequant.PerChannel
		case "narrow":
			w.Scheme.NarrowRange = true
		case "io8":
			edge = 8
		case "wobs":
			w.Observer = v
		case "aobs":
			a.Observer = v
		case "method":
			if v != "affine" && v != "lsq" && v != "pot" {
				return QuantConfig{}, fmt.Errorf("%w %q: method %q, want affine, lsq or pot", ErrQuantSpec, spec, v)
			}
			w.Method, a.Method = v, v
		default:
			return QuantConfig{}, fmt.Errorf("%w %q: unknown option %q", ErrQuantSpec, spec, opt)
		}
	}
	c := QuantConfig{Spec: s, EdgeActBits: edge}
	if wb != 32 {
		if err := w.Scheme.Validate(); err != nil {
			return QuantConfig{}, fmt.Errorf("%w %q: weights: %v", ErrQuantSpec, spec, err)
		}
		c.Weight = &w
	}
	if ab != 32 {
		c.Act = &a
	}
	return c, nil
}

// ParseOverrides reads per-layer overrides from JSON; unknown keys are
// errors. Layer names are checked when the model is built.
func ParseOverrides(data []byte) (map[string]LayerOverride, error) {
	var m map[string]LayerOverride
	// Decode each layer strictly so that a misspelt key is reported.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: overrides: %v", ErrQuantSpec, err)
	}
	m = make(map[string]LayerOverride, len(raw))
	for name, r := range raw {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		var o LayerOverride
		if err := dec.Decode(&o); err != nil {
			return nil, fmt.Errorf("%w: overrides for layer %q: %v", ErrQuantSpec, name, err)
		}
		for _, b := range []*int{o.WeightBits, o.ActBits} {
			if b != nil && (*b < 1 || *b > 16) && *b != 32 {
				return nil, fmt.Errorf("%w: overrides for layer %q: bit width %d not in 1..16 (or 32)", ErrQuantSpec, name, *b)
			}
		}
		m[name] = o
	}
	return m, nil
}

// LoadOverrides reads overrides from a JSON file into c.
func (c *QuantConfig) LoadOverrides(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("nn: quant overrides: %w", err)
	}
	m, err := ParseOverrides(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.Overrides = m
	return nil
}

// forLayer returns the weight and activation settings of layer name.
func (c QuantConfig) forLayer(name string) (w, a *TensorQuant) {
	w, a = c.Weight, c.Act
	o, ok := c.Overrides[name]
	if !ok {
		return w, a
	}
	if o.Float != nil && *o.Float {
		return nil, nil
	}
	if o.WeightBits != nil || o.PerChannel != nil || o.WeightObserver != nil {
		base := TensorQuant{Scheme: fakequant.QScheme{Bits: 8, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel},
			Observer: "minmax", Method: "affine"}
		if w != nil {
			base = *w
		}
		if o.WeightBits != nil {
			base.Scheme.Bits = *o.WeightBits
		}
		if o.PerChannel != nil {
			base.Scheme.Granularity = fakequant.PerTensor
			if *o.PerChannel {
				base.Scheme.Granularity = fakequant.PerChannel
			}
		}
		if o.WeightObserver != nil {
			base.Observer = *o.WeightObserver
		}
		w = &base
		if base.Scheme.Bits == 32 {
			w = nil
		}
	}
	if o.ActBits != nil || o.ActObserver != nil {
		base := TensorQuant{Scheme: fakequant.QScheme{Bits: 8}, Observer: "ema", Method: "affine"}
		if a != nil {
			base = *a
		}
		if o.ActBits != nil {
			base.Scheme.Bits = *o.ActBits
		}
		if o.ActObserver != nil {
			base.Observer = *o.ActObserver
		}
		a = &base
		if base.Scheme.Bits == 32 {
			a = nil
		}
	}
	return w, a
}

// quantizable is implemented by layers that hold a weight and an output
// quantizer.
type quantizable interface {
	Module
	setQuantizers(wq, aq fakequant.Quantizer)
}

func (l *Linear) setQuantizers(wq, aq fakequant.Quantizer)  { l.WQ, l.AQ = wq, aq }
func (c *Conv2d) setQuantizers(wq, aq fakequant.Quantizer)  { c.WQ, c.AQ = wq, aq }
func (cb *ConvBn) setQuantizers(wq, aq fakequant.Quantizer) { cb.Conv.WQ, cb.Conv.AQ = wq, aq }

// attach gives every quantizable layer of seq its quantizers from c, and
// returns the input quantizer (nil when activations stay float). Overrides
// naming no quantizable layer are errors.
func (c QuantConfig) attach(seq *Sequential) (fakequant.Quantizer, error) {
	names := map[string]bool{}
	var all []string
	last := ""
	for _, l := range seq.Layers {
		if ql, ok := l.(quantizable); ok {
			last = ql.Name()
		}
	}
	for _, l := range seq.Layers {
		ql, ok := l.(quantizable)
		if !ok {
			continue
		}
		names[ql.Name()] = true
		all = append(all, ql.Name())
		wt, at := c.forLayer(ql.Name())
		var wq, aq fakequant.Quantizer
		var err error
		if wt != nil {
			if wq, err = newQuantizer(*wt, false); err != nil {
				return nil, fmt.Errorf("nn: %s.weight: %w", ql.Name(), err)
			}
		}
		if at != nil && ql.Name() == last {
			at = c.edge(at)
		}
		if at != nil {
			if aq, err = newQuantizer(*at, true); err != nil {
				return nil, fmt.Errorf("nn: %s.act: %w", ql.Name(), err)
			}
		}
		ql.setQuantizers(wq, aq)
	}
	for name := range c.Overrides {
		if !names[name] {
			sort.Strings(all)
			return nil, fmt.Errorf("%w: override for unknown layer %q (layers: %s)", ErrQuantSpec, name, strings.Join(all, ", "))
		}
	}
	if c.Act == nil {
		return nil, nil
	}
	q, err := newQuantizer(*c.edge(c.Act), true)
	if err != nil {
		return nil, fmt.Errorf("nn: input: %w", err)
	}
	return q, nil
}

// edge returns a with EdgeActBits bits when that is set.
func (c QuantConfig) edge(a *TensorQuant) *TensorQuant {
	if c.EdgeActBits <= 0 || a == nil {
		return a
	}
	e := *a
	e.Scheme.Bits = c.EdgeActBits
	return &e
}

// String renders the config, e.g. "w8a8".
func (c QuantConfig) String() string { return c.Spec }
