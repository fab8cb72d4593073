package sweep

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// lenet5Layers is LeNet-5's weight layers.
var lenet5Layers = []Layer{{"conv1", Conv}, {"conv2", Conv}, {"fc1", FC}, {"fc2", FC}}

func TestParseBits(t *testing.T) {
	for i, test := range []struct {
		in   string
		want []int
		err  string
	}{
		{in: "1-8", want: []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{in: "2,4,8", want: []int{2, 4, 8}},
		{in: "8, 4,2,4", want: []int{2, 4, 8}},
		{in: "1-3,8,2-4", want: []int{1, 2, 3, 4, 8}},
		{in: "16", want: []int{16}},
		{in: "5-5", want: []int{5}},
		{in: "", err: "no bit widths"},
		{in: " , ", err: "no bit widths"},
		{in: "8-1", err: "reversed"},
		{in: "0-4", err: "not in 1..16"},
		{in: "17", err: "not in 1..16"},
		{in: "four", err: `"four" is not an integer`},
		{in: "1-x", err: `"x" is not an integer`},
		{in: "-3", err: `"" is not an integer`},
	} {
		got, err := ParseBits(test.in)
		if test.err != "" {
			if err == nil || !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), test.err) {
				t.Errorf("%d: ParseBits(%q) error %v, want one containing %q", i, test.in, err, test.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, test.want) {
			t.Errorf("%d: ParseBits(%q) = %v, %v; want %v", i, test.in, got, err, test.want)
		}
	}
}

func TestParseMethodsGroupsEpochs(t *testing.T) {
	ms, err := ParseMethods("kmeans, linear-pc,kmeans")
	if err != nil || !reflect.DeepEqual(ms, []Method{LinearPC, KMeans}) {
		t.Errorf("ParseMethods = %v, %v", ms, err)
	}
	if ms, _ := ParseMethods("all"); len(ms) != 8 {
		t.Errorf("ParseMethods(all) = %v", ms)
	}
	if _, err := ParseMethods("linear,fp16"); err == nil || !strings.Contains(err.Error(), `unknown method "linear"`) {
		t.Errorf("ParseMethods(linear) error %v", err)
	}
	gs, err := ParseGroups("conv, FC,layer:Fc1,conv")
	if err != nil || !reflect.DeepEqual(gs, []string{"conv", "fc", "layer:Fc1"}) {
		t.Errorf("ParseGroups = %v, %v", gs, err)
	}
	for _, bad := range []string{"", "dense", "layer:"} {
		if _, err := ParseGroups(bad); !errors.Is(err, ErrOption) {
			t.Errorf("ParseGroups(%q) error %v", bad, err)
		}
	}
	es, err := ParseEpochs("2,0")
	if err != nil || !reflect.DeepEqual(es, []int{0, 2}) {
		t.Errorf("ParseEpochs = %v, %v", es, err)
	}
	if _, err := ParseEpochs("-1"); !errors.Is(err, ErrOption) {
		t.Errorf("ParseEpochs(-1) error %v", err)
	}
}

// TestPlanAssignments checks which layers get which quantizer.
func TestPlanAssignments(t *testing.T) {
	for _, test := range []struct {
		group string
		want  []string // "layer:method:bits"
	}{
		{"conv", []string{"conv1:kmeans:3", "conv2:kmeans:3"}},
		{"fc", []string{"fc1:kmeans:3", "fc2:kmeans:3"}},
		{"all", []string{"conv1:kmeans:3", "conv2:kmeans:3", "fc1:kmeans:3", "fc2:kmeans:3"}},
		{"layer:fc1", []string{"fc1:kmeans:3"}},
	} {
		p, err := NewPlan(lenet5Layers, Options{Groups: []string{test.group}, Methods: []Method{KMeans}, Bits: []int{3}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Points) != 2 || p.Points[0].Kind != Baseline || len(p.Points[0].Assign) != 0 {
			t.Fatalf("%s: points %+v, want baseline + one", test.group, p.Points)
		}
		var got []string
		for _, a := range p.Points[1].Assign {
			got = append(got, a.Layer+":"+string(a.Method)+":"+strconv.Itoa(a.Bits))
		}
		if !reflect.DeepEqual(got, test.want) {
			t.Errorf("%s: assignments %v, want %v", test.group, got, test.want)
		}
	}
	if _, err := NewPlan(lenet5Layers, Options{Groups: []string{"layer:fc9"}, Methods: []Method{KMeans}, Bits: []int{3}}); err == nil ||
		!strings.Contains(err.Error(), `group "layer:fc9" has no layers`) {
		t.Errorf("unknown layer: error %v", err)
	}
	lenet300 := []Layer{{"fc1", FC}, {"fc2", FC}, {"fc3", FC}}
	if _, err := NewPlan(lenet300, Options{Groups: []string{"conv"}, Methods: []Method{KMeans}, Bits: []int{3}}); !errors.Is(err, ErrOption) {
		t.Errorf("conv group on lenet300: error %v", err)
	}
}

// TestPlanPoints checks the point list: FP32 baseline and controls, float
// formats at their width, unrepresentable widths skipped, sensitivity.
func TestPlanPoints(t *testing.T) {
	p, err := NewPlan(lenet5Layers, Options{
		Groups: []string{"fc"}, Methods: []Method{LinearPC, Pow2, FP8E4M3, BF16},
		Bits: []int{1, 2}, Epochs: []int{0, 2}, Sensitivity: true, Seed: 7, Fingerprint: "model-a",
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pt := range p.Points {
		got = append(got, describe(pt)+" "+string(pt.Kind))
	}
	want := []string{
		"fp32 baseline", "fp32 +2ep control",
		"fc linear-pc 1b group", "fc linear-pc 2b group", "fc pow2 2b group", "fc fp8-e4m3 8b group", "fc bf16 16b group",
		"fc linear-pc 1b +2ep group", "fc linear-pc 2b +2ep group", "fc pow2 2b +2ep group", "fc fp8-e4m3 8b +2ep group", "fc bf16 16b +2ep group",
	}
	for _, l := range []string{"conv1", "conv2", "fc1", "fc2"} {
		for _, s := range []string{"linear-pc 1b", "linear-pc 2b", "pow2 2b", "fp8-e4m3 8b", "bf16 16b"} {
			want = append(want, "layer:"+l+" "+s+" sensitivity")
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("points\n got %q\nwant %q", got, want)
	}
	if !reflect.DeepEqual(p.Skipped, []string{"pow2 at 1 bits (supports 2..9)"}) {
		t.Errorf("skipped %q", p.Skipped)
	}
	ids := map[string]bool{}
	for _, pt := range p.Points {
		if len(pt.ID) != 20 || ids[pt.ID] {
			t.Errorf("point %s: ID %q not a fresh 20-hex-digit hash", describe(pt), pt.ID)
		}
		ids[pt.ID] = true
		if pt.Seed != seedOf(pt.ID) {
			t.Errorf("point %s: seed not derived from ID", describe(pt))
		}
	}

	// The same settings give the same IDs; another fingerprint or seed
	// changes every one; labels do not enter the ID.
	q, _ := NewPlan(lenet5Layers, Options{Groups: []string{"fc"}, Methods: []Method{LinearPC, Pow2, FP8E4M3, BF16},
		Bits: []int{2, 1}, Epochs: []int{2, 0}, Sensitivity: true, Seed: 7, Fingerprint: "model-a"})
	for i := range p.Points {
		if q.Points[i].ID != p.Points[i].ID {
			t.Errorf("point %d: ID changed between identical plans", i)
		}
	}
	r, _ := NewPlan(lenet5Layers, Options{Groups: []string{"fc"}, Methods: []Method{LinearPC}, Bits: []int{1}, Seed: 7, Fingerprint: "model-b"})
	if ids[r.Points[0].ID] || ids[r.Points[1].ID] {
		t.Error("another fingerprint kept a point ID")
	}
	s, _ := NewPlan(lenet5Layers, Options{Groups: []string{"layer:fc1"}, Methods: []Method{LinearPC}, Bits: []int{1}, Seed: 7, Fingerprint: "model-a"})
	if s.Points[1].ID != p.Points[22].ID || p.Points[22].Group != "layer:fc1" || p.Points[22].Kind != Sensitivity {
		t.Errorf("group layer:fc1 and the fc1 sensitivity point are one computation but have IDs %s and %s", s.Points[1].ID, p.Points[22].ID)
	}
}

func TestPlanErrors(t *testing.T) {
	ok := Options{Groups: []string{"all"}, Methods: []Method{LinearPC}, Bits: []int{4}}
	for i, test := range []struct {
		layers []Layer
		opt    func(o *Options)
		err    string
	}{
		{nil, func(*Options) {}, "no conv or fc layers"},
		{[]Layer{{"a", "pool"}}, func(*Options) {}, `kind "pool"`},
		{[]Layer{{"a", FC}, {"a", FC}}, func(*Options) {}, `duplicate layer "a"`},
		{lenet5Layers, func(o *Options) { o.Groups = nil }, "no groups"},
		{lenet5Layers, func(o *Options) { o.Methods = nil }, "no methods"},
		{lenet5Layers, func(o *Options) { o.Methods = []Method{FP32} }, `method "fp32"`},
		{lenet5Layers, func(o *Options) { o.Bits = []int{0} }, "bit width 0"},
		{lenet5Layers, func(o *Options) { o.Epochs = []int{-1} }, "epochs -1"},
	} {
		o := ok
		test.opt(&o)
		_, err := NewPlan(test.layers, o)
		if !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), test.err) {
			t.Errorf("%d: error %v, want one containing %q", i, err, test.err)
		}
	}
}
