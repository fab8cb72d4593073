package qconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/numerics"
)

// ErrSpec is returned (wrapped) for quantization specs and override
// files that cannot be parsed.
var ErrSpec = errors.New("qconfig: bad quantization spec")

// TensorQuant says how one kind of tensor (weights or activations) is
// fake-quantized.
type TensorQuant struct {
	Scheme fakequant.QScheme
	// Observer is the observer kind: "minmax", "ema", "histogram", "mse",
	// "entropy", or "" for DefaultObserver's choice.
	Observer string
	// Method is "affine" (observer ranges, straight-through gradient), "lsq"
	// (learned step size), "pot" (power-of-two scales) or a float format
	// ("fp16", "bf16", "tf32", "fp8-e4m3", "fp8-e5m2": values rounded to that
	// format; Scheme and Observer are then unused).
	Method string
}

// Override changes the quantization of the layers its key selects; nil
// fields keep the setting below it. Keys (see Config.Overrides) are a layer
// name ("fc2", "s1.b0.conv1"), a name pattern with * and ? ("fc*", "*.dw")
// or a layer type ("type:linear", "type:conv2d", "type:depthwise",
// "type:add", "type:concat", "type:pool"). It is read from JSON, e.g.
// {"fc2": {"weight_bits": 8}, "conv1": {"weight_bits": 4, "per_channel": false}}.
type Override struct {
	WeightBits     *int    `json:"weight_bits,omitempty"`
	ActBits        *int    `json:"act_bits,omitempty"`
	PerChannel     *bool   `json:"per_channel,omitempty"`
	WeightObserver *string `json:"weight_observer,omitempty"`
	ActObserver    *string `json:"act_observer,omitempty"`
	// Method is "affine", "lsq", "pot" or a float format ("fp16", "bf16",
	// "fp8-e4m3", ...), for the weight and the output of the layer.
	Method *string `json:"method,omitempty"`
	// Float keeps the layer's weight and output in float32.
	Float *bool `json:"float,omitempty"`
}

// Config is a model-wide quantization setting plus per-layer overrides.
// Weight or Act nil means that kind of tensor stays float; both nil is FP32
// training. The input quantizer uses Act.
//
// A layer's setting is built up from the least to the most specific entry
// (as torch.ao's QConfigMapping ranks them): the model-wide setting, then a
// "type:KIND" override, then the name patterns that match it (shorter
// patterns first), then an override keyed by its exact name. Each entry
// changes only the fields it sets. An override that selects no layer is an
// error, so a misspelt name is never ignored.
type Config struct {
	Spec        string
	Weight, Act *TensorQuant
	Overrides   map[string]Override
	// EdgeActBits, when > 0, is the bit width of the network's input and of
	// the last quantized layer's output (the logits), whatever Act says
	// (spec option io8): low-bit networks usually keep both at 8 bits.
	EdgeActBits int
}

// FP32 is the configuration without quantizers.
var FP32 = Config{Spec: "fp32"}

// ParseConfig parses a spec: "fp32", or "w<bits>a<bits>" followed by
// comma-separated options:
//
//	per-tensor | per-channel   weight granularity (default per-channel)
//	narrow                     signed narrow weight range ([-127, 127] for 8 bits)
//	wobs=KIND, aobs=KIND       observers (defaults minmax for weights; for activations ema,
//	                           or mse below 4 bits: see DefaultObserver)
//	method=affine|lsq|pot      quantizer kind for weights and activations (default affine)
//	io8                        the input and the last layer's output (logits) at 8 bits
//
// A float format name ("fp16", "bf16", "tf32", "fp8-e4m3", "fp8-e5m2")
// simulates weights and activations in that format instead.
//
// Bits are 1..16; 32 keeps that side float ("w4a32" quantizes weights only).
// The defaults are PyTorch's: weights int symmetric per-channel (axis 0),
// activations uint affine per-tensor.
func Parse(spec string) (Config, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	if s == "fp32" || s == "" {
		return Config{Spec: "fp32"}, nil
	}
	if f, err := numerics.FormatByName(s); err == nil {
		t := TensorQuant{Method: strings.ToLower(f.Name)}
		w, a := t, t
		return Config{Spec: s, Weight: &w, Act: &a}, nil
	}
	parts := strings.Split(s, ",")
	head := parts[0]
	ai := strings.IndexByte(head, 'a')
	if !strings.HasPrefix(head, "w") || ai < 2 {
		return Config{}, fmt.Errorf("%w %q: want fp32, w<bits>a<bits>[,options] or a float format (fp16, bf16, tf32, fp8-e4m3, fp8-e5m2)", ErrSpec, spec)
	}
	wb, err1 := strconv.Atoi(head[1:ai])
	ab, err2 := strconv.Atoi(head[ai+1:])
	if err1 != nil || err2 != nil {
		return Config{}, fmt.Errorf("%w %q: bit widths are not integers", ErrSpec, spec)
	}
	for _, b := range []int{wb, ab} {
		if (b < 1 || b > 16) && b != 32 {
			return Config{}, fmt.Errorf("%w %q: bit width %d not in 1..16 (or 32 for float)", ErrSpec, spec, b)
		}
	}
	w := TensorQuant{Scheme: fakequant.QScheme{Bits: wb, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel},
		Observer: "minmax", Method: "affine"}
	a := TensorQuant{Scheme: fakequant.QScheme{Bits: ab}, Method: "affine"} // observer: DefaultObserver
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
				return Config{}, fmt.Errorf("%w %q: method %q, want affine, lsq or pot", ErrSpec, spec, v)
			}
			w.Method, a.Method = v, v
		default:
			return Config{}, fmt.Errorf("%w %q: unknown option %q", ErrSpec, spec, opt)
		}
	}
	c := Config{Spec: s, EdgeActBits: edge}
	if wb != 32 {
		if err := w.Scheme.Validate(); err != nil {
			return Config{}, fmt.Errorf("%w %q: weights: %v", ErrSpec, spec, err)
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
func ParseOverrides(data []byte) (map[string]Override, error) {
	var m map[string]Override
	// Decode each layer strictly so that a misspelt key is reported.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: overrides: %v", ErrSpec, err)
	}
	m = make(map[string]Override, len(raw))
	for name, r := range raw {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		var o Override
		if err := dec.Decode(&o); err != nil {
			return nil, fmt.Errorf("%w: overrides for layer %q: %v", ErrSpec, name, err)
		}
		if kind, ok := strings.CutPrefix(name, "type:"); ok && !slices.Contains(LayerKinds, kind) {
			return nil, fmt.Errorf("%w: override key %q: layer type %q, want one of %s", ErrSpec, name, kind, strings.Join(LayerKinds, ", "))
		}
		if _, err := path.Match(name, ""); err != nil {
			return nil, fmt.Errorf("%w: override key %q is not a valid pattern: %v", ErrSpec, name, err)
		}
		if o.Method != nil {
			if _, err := NewQuantizer(TensorQuant{Scheme: fakequant.QScheme{Bits: 8}, Observer: "minmax", Method: *o.Method}, false); err != nil {
				return nil, fmt.Errorf("%w: overrides for layer %q: method %q, want affine, lsq, pot or a float format", ErrSpec, name, *o.Method)
			}
		}
		for _, b := range []*int{o.WeightBits, o.ActBits} {
			if b != nil && (*b < 1 || *b > 16) && *b != 32 {
				return nil, fmt.Errorf("%w: overrides for layer %q: bit width %d not in 1..16 (or 32)", ErrSpec, name, *b)
			}
		}
		m[name] = o
	}
	return m, nil
}

// LoadOverrides reads overrides from a JSON file into c.
func (c *Config) LoadOverrides(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("qconfig: quant overrides: %w", err)
	}
	m, err := ParseOverrides(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.Overrides = m
	return nil
}

// LayerKinds are the layer types an override key "type:KIND" can select.
var LayerKinds = []string{"linear", "conv2d", "depthwise", "add", "concat", "pool"}

// matches lists the override keys that select a layer called name of the
// given kind, least specific first.
func (c Config) matches(name, kind string) ([]string, error) {
	var typ, exact string
	var pats []string
	for k := range c.Overrides {
		switch {
		case strings.HasPrefix(k, "type:"):
			if strings.TrimPrefix(k, "type:") == kind {
				typ = k
			}
		case strings.ContainsAny(k, "*?["):
			ok, err := path.Match(k, name)
			if err != nil {
				return nil, fmt.Errorf("%w: override pattern %q: %v", ErrSpec, k, err)
			}
			if ok {
				pats = append(pats, k)
			}
		case k == name:
			exact = k
		}
	}
	sort.Slice(pats, func(i, j int) bool {
		if len(pats[i]) != len(pats[j]) {
			return len(pats[i]) < len(pats[j])
		}
		return pats[i] < pats[j]
	})
	var keys []string
	if typ != "" {
		keys = append(keys, typ)
	}
	keys = append(keys, pats...)
	if exact != "" {
		keys = append(keys, exact)
	}
	return keys, nil
}

// ForLayer returns the weight and activation settings of the layer called
// name of the given kind (one of LayerKinds), and the override keys that
// shaped them.
func (c Config) ForLayer(name, kind string) (w, a *TensorQuant, keys []string, err error) {
	w, a = c.Weight, c.Act
	if keys, err = c.matches(name, kind); err != nil {
		return nil, nil, nil, err
	}
	for _, k := range keys {
		w, a = apply(c.Overrides[k], w, a)
	}
	return w, a, keys, nil
}

// apply changes w and a by o.
func apply(o Override, w, a *TensorQuant) (*TensorQuant, *TensorQuant) {
	if o.Float != nil && *o.Float {
		return nil, nil
	}
	if o.WeightBits != nil || o.PerChannel != nil || o.WeightObserver != nil || o.Method != nil {
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
		if o.Method != nil {
			base.Method = *o.Method
		}
		w = &base
		if base.Scheme.Bits == 32 {
			w = nil
		}
	}
	if o.ActBits != nil || o.ActObserver != nil || o.Method != nil {
		base := TensorQuant{Scheme: fakequant.QScheme{Bits: 8}, Method: "affine"}
		if a != nil {
			base = *a
		}
		if o.ActBits != nil {
			base.Scheme.Bits = *o.ActBits
		}
		if o.ActObserver != nil {
			base.Observer = *o.ActObserver
		}
		if o.Method != nil {
			base.Method = *o.Method
		}
		a = &base
		if base.Scheme.Bits == 32 {
			a = nil
		}
	}
	return w, a
}

// edge returns a with EdgeActBits bits when that is set.
func (c Config) edge(a *TensorQuant) *TensorQuant {
	if c.EdgeActBits <= 0 || a == nil {
		return a
	}
	e := *a
	e.Scheme.Bits = c.EdgeActBits
	return &e
}

// String renders the config, e.g. "w8a8".
func (c Config) String() string { return c.Spec }
