package sweep

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrOption is returned (wrapped) for options that cannot be parsed or
// planned: bad bit lists, unknown methods or groups, empty groups.
var ErrOption = errors.New("sweep: bad option")

// Method is a weight quantization method.
type Method string

// The methods. FP32 marks the unquantized baseline and control points.
const (
	LinearPC Method = "linear-pc" // linear symmetric signed, per output channel
	LinearPT Method = "linear-pt" // linear symmetric signed, per tensor
	KMeans   Method = "kmeans"    // 2^b shared centroids per layer, linear init
	Pow2     Method = "pow2"      // sign + (b-1) exponent bits, max exponent from max|w|
	FP16     Method = "fp16"
	BF16     Method = "bf16"
	FP8E4M3  Method = "fp8-e4m3"
	FP8E5M2  Method = "fp8-e5m2"
	FP32     Method = "fp32"
)

// Methods lists the quantization methods in report order.
func Methods() []Method {
	return []Method{LinearPC, LinearPT, KMeans, Pow2, FP16, BF16, FP8E4M3, FP8E5M2}
}

// FloatWidth returns the fixed width of a float-format method and true, or
// 0 and false for methods whose width is chosen.
func (m Method) FloatWidth() (int, bool) {
	switch m {
	case FP16, BF16:
		return 16, true
	case FP8E4M3, FP8E5M2:
		return 8, true
	case FP32:
		return 32, true
	}
	return 0, false
}

// bitsRange is the range of widths a method supports.
func (m Method) bitsRange() (lo, hi int) {
	switch m {
	case LinearPC, LinearPT, KMeans:
		return 1, 16
	case Pow2:
		return 2, 9 // sign bit + 1..8 exponent bits
	}
	w, _ := m.FloatWidth()
	return w, w
}

// ParseMethods parses a comma-separated method list ("linear-pc,kmeans");
// "all" means every method. Duplicates are dropped; order follows Methods.
func ParseMethods(s string) ([]Method, error) {
	want := map[Method]bool{}
	for _, f := range splitList(s) {
		if f == "all" {
			for _, m := range Methods() {
				want[m] = true
			}
			continue
		}
		m := Method(f)
		if !slices.Contains(Methods(), m) {
			return nil, fmt.Errorf("%w: unknown method %q (have %s, all)", ErrOption, f, joinMethods(Methods()))
		}
		want[m] = true
	}
	var out []Method
	for _, m := range Methods() {
		if want[m] {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no methods in %q", ErrOption, s)
	}
	return out, nil
}

func joinMethods(ms []Method) string {
	ss := make([]string, len(ms))
	for i, m := range ms {
		ss[i] = string(m)
	}
	return strings.Join(ss, ", ")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// MaxBits is the widest integer grid a sweep plans.
const MaxBits = 16

// ParseBits parses a bit-width list such as "1-8", "2,4,8" or "1-4,8" into
// sorted, distinct widths in 1..MaxBits.
func ParseBits(s string) ([]int, error) {
	seen := map[int]bool{}
	for _, f := range splitList(s) {
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("%w: bits %q: %q is not an integer", ErrOption, s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("%w: bits %q: %q is not an integer", ErrOption, s, hi)
			}
			if b < a {
				return nil, fmt.Errorf("%w: bits %q: range %d-%d is reversed", ErrOption, s, a, b)
			}
		}
		if a < 1 || b > MaxBits {
			return nil, fmt.Errorf("%w: bits %q: %s not in 1..%d", ErrOption, s, f, MaxBits)
		}
		for v := a; v <= b; v++ {
			seen[v] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%w: no bit widths in %q", ErrOption, s)
	}
	out := make([]int, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

// ParseEpochs parses the fine-tuning epoch counts, e.g. "0,2" (0: no
// fine-tuning). Sorted, distinct, each 0..1000.
func ParseEpochs(s string) ([]int, error) {
	seen := map[int]bool{}
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 || v > 1000 {
			return nil, fmt.Errorf("%w: fine-tune epochs %q: %q is not in 0..1000", ErrOption, s, f)
		}
		seen[v] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%w: no epoch counts in %q", ErrOption, s)
	}
	out := make([]int, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

// LayerKind says whether a layer belongs to the conv or the fc group.
type LayerKind string

// Layer kinds.
const (
	Conv LayerKind = "conv"
	FC   LayerKind = "fc"
)

// Layer is one weight-bearing layer of the model, in model order.
type Layer struct {
	Name string    `json:"name"`
	Kind LayerKind `json:"kind"`
}

// ParseGroups parses a comma-separated group list: conv, fc, all, layer:NAME.
// Layer names are checked by NewPlan.
func ParseGroups(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		g := strings.ToLower(f)
		switch {
		case g == "conv" || g == "fc" || g == "all":
		case strings.HasPrefix(g, "layer:") && len(f) > len("layer:"):
			g = "layer:" + f[len("layer:"):] // layer names keep their case
		default:
			return nil, fmt.Errorf("%w: group %q, want conv, fc, all or layer:NAME", ErrOption, f)
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no groups in %q", ErrOption, s)
	}
	return out, nil
}

// GroupLayers returns the layers of group g ("conv", "fc", "all",
// "layer:NAME") in model order.
func GroupLayers(layers []Layer, g string) ([]Layer, error) {
	var out []Layer
	name, isLayer := strings.CutPrefix(g, "layer:")
	for _, l := range layers {
		switch {
		case isLayer && l.Name == name,
			g == "all",
			g == string(Conv) && l.Kind == Conv,
			g == string(FC) && l.Kind == FC:
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		names := make([]string, len(layers))
		for i, l := range layers {
			names[i] = l.Name + "(" + string(l.Kind) + ")"
		}
		return nil, fmt.Errorf("%w: group %q has no layers in this model (layers: %s)", ErrOption, g, strings.Join(names, ", "))
	}
	return out, nil
}

// Options says what a sweep computes.
type Options struct {
	Groups  []string // "conv", "fc", "all", "layer:NAME"
	Methods []Method
	Bits    []int // widths for linear, kmeans and pow2; float formats use their own
	// Epochs lists fine-tuning lengths; 0 is no fine-tuning. Each N > 0 adds
	// an FP32 control fine-tuned for N epochs with the same settings.
	Epochs []int
	// Sensitivity adds one point per (layer, method, bits) with only that
	// layer quantized, without fine-tuning.
	Sensitivity bool
	Seed        uint64
	// Fingerprint identifies everything outside the plan that changes a
	// result (the trained model's bytes, the data, fine-tuning settings); it
	// is part of every point's ID.
	Fingerprint string
}

// Kind classifies points.
type Kind string

// Point kinds.
const (
	Baseline    Kind = "baseline"    // FP32, no fine-tuning
	Control     Kind = "control"     // FP32 fine-tuned for Epochs
	GroupPoint  Kind = "group"       // a group quantized with one method
	Sensitivity Kind = "sensitivity" // one layer quantized
)

// Assignment gives one layer's weight quantizer.
type Assignment struct {
	Layer  string    `json:"layer"`
	Kind   LayerKind `json:"kind"`
	Method Method    `json:"method"`
	Bits   int       `json:"bits"`
}

// Point is one independent evaluation. Kind and Group are labels for
// reports; the ID depends only on what is computed (Assign, Epochs, the
// seed and the fingerprint), so equal computations share one result.
type Point struct {
	ID     string       `json:"id"`
	Kind   Kind         `json:"kind"`
	Group  string       `json:"group,omitempty"`
	Method Method       `json:"method"`
	Bits   int          `json:"bits"`
	Epochs int          `json:"epochs"`
	Assign []Assignment `json:"assign,omitempty"` // in model order; empty for FP32
	Seed   uint64       `json:"seed"`             // derived from the ID
}

// Plan is a planned sweep.
type Plan struct {
	Options Options
	Layers  []Layer
	Points  []Point
	// Skipped lists (method, bits) pairs the methods cannot represent, e.g.
	// pow2 at 1 bit, as human-readable notes.
	Skipped []string
}

// NewPlan expands opt over the model's layers into points: the FP32
// baseline, an FP32 control per fine-tuning length > 0, for each group a
// point per (method, bits, epochs), and, with Sensitivity, a point per
// (layer, method, bits) with epochs 0. Float formats contribute one point at
// their own width regardless of Bits.
func NewPlan(layers []Layer, opt Options) (*Plan, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: the model has no conv or fc layers", ErrOption)
	}
	seen := map[string]bool{}
	for _, l := range layers {
		if l.Kind != Conv && l.Kind != FC {
			return nil, fmt.Errorf("%w: layer %q has kind %q, want conv or fc", ErrOption, l.Name, l.Kind)
		}
		if seen[l.Name] {
			return nil, fmt.Errorf("%w: duplicate layer %q", ErrOption, l.Name)
		}
		seen[l.Name] = true
	}
	if len(opt.Groups) == 0 && !opt.Sensitivity {
		return nil, fmt.Errorf("%w: no groups and no sensitivity study", ErrOption)
	}
	if len(opt.Methods) == 0 {
		return nil, fmt.Errorf("%w: no methods", ErrOption)
	}
	for _, m := range opt.Methods {
		if m == FP32 || !slices.Contains(Methods(), m) {
			return nil, fmt.Errorf("%w: method %q", ErrOption, m)
		}
	}
	if len(opt.Bits) == 0 {
		return nil, fmt.Errorf("%w: no bit widths", ErrOption)
	}
	for _, b := range opt.Bits {
		if b < 1 || b > MaxBits {
			return nil, fmt.Errorf("%w: bit width %d not in 1..%d", ErrOption, b, MaxBits)
		}
	}
	epochs := opt.Epochs
	if len(epochs) == 0 {
		epochs = []int{0}
	}
	for _, e := range epochs {
		if e < 0 {
			return nil, fmt.Errorf("%w: fine-tune epochs %d < 0", ErrOption, e)
		}
	}
	// Sorted, distinct lists make the point order (and reports) independent
	// of how the user spelt them.
	opt.Bits = sortedSet(opt.Bits)
	opt.Epochs = sortedSet(epochs)
	epochs = opt.Epochs
	p := &Plan{Options: opt, Layers: append([]Layer(nil), layers...)}
	add := func(pt Point) error {
		id, err := pointID(pt, opt)
		if err != nil {
			return err
		}
		pt.ID = id
		pt.Seed = seedOf(id)
		p.Points = append(p.Points, pt)
		return nil
	}
	if err := add(Point{Kind: Baseline, Method: FP32, Bits: 32}); err != nil {
		return nil, err
	}
	for _, e := range epochs {
		if e > 0 {
			if err := add(Point{Kind: Control, Method: FP32, Bits: 32, Epochs: e}); err != nil {
				return nil, err
			}
		}
	}
	skipped := map[string]bool{}
	widths := func(m Method) []int {
		if w, ok := m.FloatWidth(); ok {
			return []int{w}
		}
		lo, hi := m.bitsRange()
		var out []int
		for _, b := range opt.Bits {
			if b < lo || b > hi {
				note := fmt.Sprintf("%s at %d bits (supports %d..%d)", m, b, lo, hi)
				if !skipped[note] {
					skipped[note] = true
					p.Skipped = append(p.Skipped, note)
				}
				continue
			}
			out = append(out, b)
		}
		return out
	}
	for _, g := range opt.Groups {
		ls, err := GroupLayers(layers, g)
		if err != nil {
			return nil, err
		}
		for _, e := range epochs {
			for _, m := range opt.Methods {
				for _, b := range widths(m) {
					if err := add(Point{Kind: GroupPoint, Group: g, Method: m, Bits: b, Epochs: e, Assign: assign(ls, m, b)}); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if opt.Sensitivity {
		for _, l := range layers {
			for _, m := range opt.Methods {
				for _, b := range widths(m) {
					if err := add(Point{Kind: Sensitivity, Group: "layer:" + l.Name, Method: m, Bits: b, Assign: assign([]Layer{l}, m, b)}); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return p, nil
}

func assign(ls []Layer, m Method, b int) []Assignment {
	out := make([]Assignment, len(ls))
	for i, l := range ls {
		out[i] = Assignment{Layer: l.Name, Kind: l.Kind, Method: m, Bits: b}
	}
	return out
}

// idVersion changes when the meaning of a point's settings changes, so old
// result files stop matching.
const idVersion = 1

// pointID hashes what determines a point's result. Labels (Kind, Group)
// are left out on purpose: "layer:fc1" and the fc1 sensitivity point, or
// "fc" and "all" on a model without convolutions, are one computation.
func pointID(pt Point, opt Options) (string, error) {
	b, err := json.Marshal(struct {
		V           int          `json:"v"`
		Fingerprint string       `json:"fingerprint"`
		Seed        uint64       `json:"seed"`
		Epochs      int          `json:"epochs"`
		Assign      []Assignment `json:"assign"`
	}{idVersion, opt.Fingerprint, opt.Seed, pt.Epochs, pt.Assign})
	if err != nil {
		return "", fmt.Errorf("sweep: point id: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:10]), nil
}

// seedOf derives a point's random seed from its ID, so that the seed does
// not depend on which worker runs the point or when.
func seedOf(id string) uint64 {
	h := sha256.Sum256([]byte("seed:" + id))
	return binary.LittleEndian.Uint64(h[:8])
}

func sortedSet(v []int) []int {
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// Unique returns the points with distinct IDs, first occurrence first.
func Unique(points []Point) []Point {
	seen := map[string]bool{}
	var out []Point
	for _, p := range points {
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, p)
		}
	}
	return out
}

// NewPoint returns pt with its ID and seed derived as NewPlan derives them
// under opt's fingerprint and seed: a point outside a plan's grid, such as
// a mixed-precision assignment of bits per layer, that a Runner can store
// and reuse like the plan's own.
func NewPoint(pt Point, opt Options) (Point, error) {
	id, err := pointID(pt, opt)
	if err != nil {
		return Point{}, err
	}
	pt.ID, pt.Seed = id, seedOf(id)
	return pt, nil
}
