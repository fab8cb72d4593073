package cgen

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/intmodel"
)

// The arena plan worked by hand: LeNet-5 with 8-bit weights (no weight-row
// scratch); each conv computes the 2×2 max pool after it. Steps: 0 input
// copy, 1 conv1+pool1, 3 conv2+pool2, 5 flatten, 6 fc1, 7 fc2, 8 output copy.
//
//	input 784 [0,1]; conv1+pool1 2880 [1,3], cols 4·28·2 = 224 [1];
//	conv2+pool2 800 [3,5], cols 4·500·2 = 4000 [3]; flatten 800 [5,6] in
//	place; fc1 500 [6,7], col 1600 [6]; fc2 10 [7,8], col 1000 [7].
//
// Largest unit first: conv2.cols at 0; conv1+pool1 (live with it at 3) at
// 4000; fc1.col and fc2.col at 0; the conv2+pool2/flatten chain (3..6: cols
// to 4000, conv1+pool1 to 6880, fc1.col) at 6880; input (0..1) at 0;
// fc1 (6..7: fc1.col to 1600) at 1600; conv1.cols (1: input to 784) at 784;
// fc2 (7..8: fc2.col to 1000) at 1000. Arena: 6880 + 800 = 7680.
// Naive, every activation of the model and every scratch apart:
// 784 + 11520+2880+3200+800+800+500+12 + 224+4000+1600+1000 = 27320.
func TestArenaLeNet5(t *testing.T) {
	res, err := Generate(leNet5(t, 1, 8), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.ArenaBytes != 7680 || res.Report.NaiveBytes != 27320 {
		t.Errorf("arena %d, naive %d; want 7680, 27320", res.Report.ArenaBytes, res.Report.NaiveBytes)
	}
	want := map[string]int{"conv2.cols": 0, "conv1+pool1": 4000, "fc1.col": 0, "fc2.col": 0, "conv2+pool2": 6880, "flatten": 6880,
		"input": 0, "fc1": 1600, "conv1.cols": 784, "fc2": 1000}
	for _, b := range res.Report.Buffers {
		if off, ok := want[b.Name]; !ok || off != b.Offset {
			t.Errorf("buffer %s at %d, want %d", b.Name, b.Offset, off)
		}
	}
	// Weights: 8-bit rows padded to 4: 20·28 + 50·500 + 500·800 + 10·500.
	if w := 20*28 + 50*500 + 500*800 + 10*500; res.Report.WeightBytes != w {
		t.Errorf("weight bytes %d, want %d", res.Report.WeightBytes, w)
	}
	h := string(res.Files[0].Data)
	for _, s := range []string{"#define MODEL_ARENA_BYTES 7680\n", "#define MODEL_INPUT_SIZE 784\n", "#define MODEL_OUTPUT_SIZE 10\n",
		"typedef uint8_t model_input_t;", "typedef int8_t model_output_t;", "void model_run(const model_input_t *input, model_output_t *output);"} {
		if !strings.Contains(h, s) {
			t.Errorf("header lacks %q", s)
		}
	}
	if strings.Contains(h, "quantize_input") || strings.Contains(string(res.Files[1].Data), "float") {
		t.Error("floats without FloatIO")
	}
}

func TestPlanArena(t *testing.T) {
	for i, test := range []struct {
		bufs  []Buffer
		chain []int // chain[i] ≥ 0: buffer i is in place over buffer chain[i]
		offs  []int
		size  int
	}{
		// Disjoint lifetimes share offset 0.
		{bufs: []Buffer{{Size: 10, First: 0, Last: 1}, {Size: 6, First: 2, Last: 3}}, chain: []int{-1, -1}, offs: []int{0, 0}, size: 12},
		// Overlapping: the larger first at 0, the other after it, aligned.
		{bufs: []Buffer{{Size: 6, First: 0, Last: 2}, {Size: 10, First: 1, Last: 3}}, chain: []int{-1, -1}, offs: []int{12, 0}, size: 20},
		// By size: 100 at 0; 50 (not live with it) at 0; 40 (live with 50)
		// at 52; 8 (live with all three) at 100.
		{bufs: []Buffer{{Size: 100, First: 0, Last: 0}, {Size: 8, First: 0, Last: 1}, {Size: 40, First: 1, Last: 1}, {Size: 50, First: 1, Last: 2}},
			chain: []int{-1, -1, -1, -1}, offs: []int{0, 100, 52, 0}, size: 108},
		// The space before a placed buffer is reused: 30 at 0, 20 (live
		// with it) at 32, 10 (live only with 20) in the hole at 0.
		{bufs: []Buffer{{Size: 30, First: 0, Last: 1}, {Size: 20, First: 1, Last: 2}, {Size: 10, First: 2, Last: 2}},
			chain: []int{-1, -1, -1}, offs: []int{0, 32, 0}, size: 52},
		// An in-place chain keeps one offset; its small tail frees space.
		{bufs: []Buffer{{Size: 100, First: 0, Last: 1}, {Size: 20, First: 1, Last: 3}, {Size: 50, First: 2, Last: 3}},
			chain: []int{-1, 0, -1}, offs: []int{0, 0, 20}, size: 100},
	} {
		ptrs := make([]*Buffer, len(test.bufs))
		for j := range test.bufs {
			ptrs[j] = &test.bufs[j]
		}
		for j, c := range test.chain {
			if c >= 0 {
				ptrs[j].leader = ptrs[c]
			}
		}
		size := planArena(ptrs)
		for j, b := range ptrs {
			if b.Offset != test.offs[j] {
				t.Errorf("case %d: buffer %d at %d, want %d", i, j, b.Offset, test.offs[j])
			}
		}
		if size != test.size {
			t.Errorf("case %d: arena %d, want %d", i, size, test.size)
		}
	}
}

// strange is a layer kind the generator does not know (as the ops of a
// later intmodel version).
type strange struct{}

func (strange) Kind() intmodel.Kind                                { return intmodel.Kind(99) }
func (strange) LayerName() string                                  { return "block1.add" }
func (strange) OutShape(in intmodel.Shape) (intmodel.Shape, error) { return in, nil }

func TestRefuseByName(t *testing.T) {
	m := leNet5(t, 1, 8)
	m.Layers = append(m.Layers[:3:3], strange{})
	shapes := []intmodel.Shape{{C: 20, H: 24, W: 24}, {C: 20, H: 12, W: 12}, {C: 50, H: 8, W: 8}, {C: 50, H: 8, W: 8}}
	g := &gen{m: m, opt: Options{Prefix: "model"}, used: map[string]bool{}}
	err := g.build(shapes)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
	if want := `cgen: layer 3 (Kind(99) "block1.add"): op not supported by the C generator`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Generate(leNet5(t, 1, 8), Options{Prefix: "2fast"}); !errors.Is(err, ErrOptions) {
		t.Errorf("prefix 2fast: err = %v, want ErrOptions", err)
	}
	m := leNet5(t, 1, 8)
	m.Layers[0].(*intmodel.Conv2d).M0 = nil
	if _, err := Generate(m, Options{}); !errors.Is(err, intmodel.ErrInvalid) {
		t.Errorf("invalid model: err = %v, want intmodel.ErrInvalid", err)
	}
}

// The weight layouts worked by hand.
func TestWeightLayout(t *testing.T) {
	// Rows of k = 5, padded to k4 = 8 and quad-permuted (positions 1 and 2
	// of each quad swapped).
	rows := weightRows([]int8{1, 2, 3, 4, 5, -1, -2, -3, -4, -5}, 2, 5, 8, true)
	if want := []int8{1, 3, 2, 4, 5, 0, 0, 0, -1, -3, -2, -4, -5, 0, 0, 0}; !slices.Equal(rows, want) {
		t.Errorf("weightRows = %v, want %v", rows, want)
	}
	d := []int8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	for _, test := range []struct {
		bits int
		want []int8
	}{
		// 4 bits: one group of 8; byte j holds d[j] (low nibble) and
		// d[4+j] (high); the last 4 in order.
		{4, []int8{0, 4, 1, 5, 2, 6, 3, 7, 8, 9, 10, 11}},
		// 2 bits: groups of 16 (none here): in order.
		{2, d},
		{3, d},
	} {
		s := make([]int8, len(d))
		wstream(s, d, test.bits)
		if !slices.Equal(s, test.want) {
			t.Errorf("wstream %d bits = %v, want %v", test.bits, s, test.want)
		}
	}
	// 2 bits, 16 values: byte j holds d[j], d[4+j], d[8+j], d[12+j].
	d16 := make([]int8, 16)
	for i := range d16 {
		d16[i] = int8(i)
	}
	s := make([]int8, 16)
	wstream(s, d16, 2)
	if want := []int8{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}; !slices.Equal(s, want) {
		t.Errorf("wstream 2 bits = %v, want %v", s, want)
	}
}

// Fields the generator does not know are refused when set.
func TestUnknownField(t *testing.T) {
	type pool struct {
		KernelH, KernelW, StrideH, StrideW, PadH, PadW int
		Requant                                        []int32
	}
	type conv struct {
		Name   string
		Groups int
		pool
	}
	known := map[reflect.Type][]string{
		reflect.TypeFor[pool](): knownFields[reflect.TypeFor[intmodel.Pool2d]()],
		reflect.TypeFor[conv](): {"Name", "pool"},
	}
	for k, v := range knownFields {
		known[k] = v
	}
	for _, test := range []struct {
		v    any
		want string
	}{
		{&intmodel.Conv2d{Name: "c", InChannels: 3}, ""},
		{&conv{Name: "c"}, ""},
		{&conv{Name: "c", Groups: 1}, "Groups=1"},
		{&conv{Name: "c", Groups: 4}, "Groups=4"},
		{conv{pool: pool{KernelH: 2, Requant: []int32{5}}}, "Requant=[5]"},
	} {
		if got := unknownIn(reflect.ValueOf(test.v), known); got != test.want {
			t.Errorf("unknownField(%+v) = %q, want %q", test.v, got, test.want)
		}
	}
}
