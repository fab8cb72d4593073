package intmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// graphModel is a small graph with every v2 feature, on 2×6×6 uint8 input:
//
//	t1 = conv 1×1 2→4 groups 2, ReLU          (t0)
//	t2 = depthwise conv 3×3 pad 1, ReLU6       (t1)
//	t3 = add(t1, t2)
//	t4 = concat(t3, t1)   (t3 copied, t1 requantized)
//	t5 = avgpool 2×2 stride 2 with requant     → 8×3×3
//	t6 = global average pool                   → 8×1×1
//	t7 = flatten; t8 = linear 8→3
func graphModel(t testing.TB, seed uint64) *Model {
	rng := rand.New(rand.NewPCG(seed, 11))
	in := ActQuant{Scale: 1.0 / 255, ZeroPoint: 0, Bits: 8}
	a1 := ActQuant{Scale: 0.03, ZeroPoint: 7, Bits: 8}
	a2 := ActQuant{Scale: 6.0 / 255, ZeroPoint: 0, Bits: 8}
	a3 := ActQuant{Scale: 0.05, ZeroPoint: 12, Bits: 8}
	a5 := ActQuant{Scale: 0.04, ZeroPoint: -100, Bits: 8, Signed: true}
	a6 := ActQuant{Scale: 0.02, ZeroPoint: 3, Bits: 8}
	out := ActQuant{Scale: 0.1, ZeroPoint: -5, Bits: 8, Signed: true}
	rw := func(n, bits int) []int8 {
		w := make([]int8, n)
		for i := range w {
			w[i] = int8(rng.IntN(1<<bits) - 1<<(bits-1))
		}
		return w
	}
	quant := func(outC, k, bits int, sw []float32, inA, outA ActQuant, relu, relu6 bool) Quantized {
		q := Quantized{WeightBits: bits, Weights: rw(outC*k, bits), WeightScale: sw, InAct: inA, OutAct: outA, Bias: make([]int32, outC)}
		for c := range q.Bias {
			q.Bias[c] = int32(rng.IntN(2001) - 1000)
		}
		if err := q.SetRequant(outC); err != nil {
			t.Fatal(err)
		}
		q.QMin, q.QMax = ClampFor(outA, relu, relu6)
		return q
	}
	pw := &Conv2d{Name: "pw", InChannels: 2, OutChannels: 4, KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, Groups: 2,
		Quantized: quant(4, 1, 8, []float32{0.01, 0.02, 0.015, 0.03}, in, a1, true, false)}
	dw := &Conv2d{Name: "dw", InChannels: 4, OutChannels: 4, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Groups: 4,
		Quantized: quant(4, 9, 8, []float32{0.01, 0.004, 0.02, 0.008}, a1, a2, false, true)}
	add, err := NewAdd("add", a1, a2, a3)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := NewConcat("cat", []ActQuant{a3, a1}, a3)
	if err != nil {
		t.Fatal(err)
	}
	avg, err := NewAvgPool2dRequant("avg", Pool2d{2, 2, 2, 2, 0, 0}, a3, a5)
	if err != nil {
		t.Fatal(err)
	}
	gap, err := NewGlobalAvgPool("gap", a5, a6, 9)
	if err != nil {
		t.Fatal(err)
	}
	fc := &Linear{Name: "fc", InFeatures: 8, OutFeatures: 3, Quantized: quant(3, 8, 4, []float32{0.05}, a6, out, false, false)}
	m := &Model{Input: in, InputShape: Shape{2, 6, 6}, Output: out, Meta: map[string]string{"source": "graph test"},
		Layers: []Layer{pw, dw, add, cat, avg, gap, &Flatten{Name: "flat"}, fc},
		Inputs: [][]int{nil, nil, {1, 2}, {3, 1}, nil, nil, nil, nil}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGraphShapes(t *testing.T) {
	m := graphModel(t, 1)
	shapes, err := m.TensorShapes()
	if err != nil {
		t.Fatal(err)
	}
	want := []Shape{{2, 6, 6}, {4, 6, 6}, {4, 6, 6}, {4, 6, 6}, {8, 6, 6}, {8, 3, 3}, {8, 1, 1}, {8, 1, 1}, {3, 1, 1}}
	if !reflect.DeepEqual(shapes, want) {
		t.Errorf("tensor shapes %v, want %v", shapes, want)
	}
	acts, err := m.Acts()
	if err != nil {
		t.Fatal(err)
	}
	add := m.Layers[2].(*Add)
	cat := m.Layers[3].(*Concat)
	if acts[3] != add.Out || acts[4] != cat.Out || acts[5] != m.Layers[4].(*AvgPool2d).Requant.Out || acts[8] != m.Output {
		t.Errorf("acts %+v", acts)
	}
	if got := m.Layers[1].(*Conv2d).K(); got != 9 {
		t.Errorf("depthwise K = %d, want 9", got)
	}
	if got := m.Layers[0].(*Conv2d).K(); got != 1 {
		t.Errorf("grouped 1×1 K = %d, want 1", got)
	}
	if m.Sequential() || !tinyModel(t, 1).Sequential() {
		t.Error("Sequential wrong")
	}
	if got := m.LayerInputs(2); !reflect.DeepEqual(got, []int{1, 2}) {
		t.Errorf("LayerInputs(2) = %v", got)
	}
	if got := m.LayerInputs(4); !reflect.DeepEqual(got, []int{4}) {
		t.Errorf("LayerInputs(4) = %v", got)
	}
}

func TestGraphRejects(t *testing.T) {
	for _, test := range []struct {
		name   string
		change func(m *Model)
		msg    string
	}{
		{"forward edge", func(m *Model) { m.Inputs[2] = []int{1, 3} }, "reads tensor 3"},
		{"negative edge", func(m *Model) { m.Inputs[2] = []int{-1, 2} }, "reads tensor -1"},
		{"add one input", func(m *Model) { m.Inputs[2] = []int{2} }, "1 inputs, want 2..2"},
		{"conv two inputs", func(m *Model) { m.Inputs[1] = []int{0, 1} }, "2 inputs, want 1..1"},
		{"add shapes", func(m *Model) { m.Inputs[2] = []int{0, 2} }, "add of shapes"},
		{"add act", func(m *Model) { m.Inputs[2] = []int{2, 1} }, "first input quantization"},
		{"add multiplier", func(m *Model) { m.Layers[2].(*Add).M0B++ }, "add multipliers"},
		{"add clamp", func(m *Model) { m.Layers[2].(*Add).QMax = 300 }, "add clamp"},
		{"concat act", func(m *Model) { m.Inputs[3] = []int{1, 3} }, "input 0 quantization"},
		{"concat requant", func(m *Model) { m.Layers[3].(*Concat).Requant[1].Shift-- }, "concat requantization 1 multiplier"},
		{"concat count", func(m *Model) { m.Layers[3].(*Concat).Requant = m.Layers[3].(*Concat).Requant[:1] }, "1 requantizations for 2"},
		{"gap count", func(m *Model) { m.Layers[4].(*AvgPool2d).StrideH = 1 }, "rescale multiplier"},
		{"groups divide", func(m *Model) { m.Layers[1].(*Conv2d).Groups = 3 }, "groups 3 do not divide"},
		{"inputs longer", func(m *Model) { m.Inputs = append(m.Inputs, nil) }, "9 input lists for 8 layers"},
	} {
		m := graphModel(t, 2)
		test.change(m)
		err := m.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), test.msg) {
			t.Errorf("%s: err = %v, want ErrInvalid mentioning %q", test.name, err, test.msg)
		}
	}
}

// Add with two different scales, worked by hand: A (S 0.5, Z 10), B (S 0.25,
// Z −3), out (S 1, Z 5). twice = 1, so M_A = 0.5 = 2^30·2^(0−31),
// M_B = 0.25 = 2^30·2^(−1−31), M_out = 2^−20 = 2^30·2^(−19−31).
func TestAddHandWorked(t *testing.T) {
	a := ActQuant{Scale: 0.5, ZeroPoint: 10, Bits: 8}
	b := ActQuant{Scale: 0.25, ZeroPoint: -3, Bits: 8, Signed: true}
	o := ActQuant{Scale: 1, ZeroPoint: 5, Bits: 8}
	l, err := NewAdd("add", a, b, o)
	if err != nil {
		t.Fatal(err)
	}
	if l.LeftShift != 20 || l.M0A != 1<<30 || l.ShiftA != 0 || l.M0B != 1<<30 || l.ShiftB != -1 || l.M0Out != 1<<30 || l.ShiftOut != -19 {
		t.Fatalf("multipliers %+v", l)
	}
	for _, test := range []struct {
		qa, qb, want int32
	}{
		// 0.5·3 + 0.25·8 = 3.5 → 5 + 3.5 = 8.5, half away from zero → 9.
		{13, 5, 9},
		// 0.5·(−1) + 0.25·(−2) = −1 → 4.
		{9, -5, 4},
		// −0.5 → 5 − 0.5 = 4.5: −0.5 rounds away from zero to −1 → 4.
		{9, -3, 4},
		// 0.5·245 + 0.25·130 = 155 → 160.
		{255, 127, 160},
		// 0.5·(−10) + 0.25·(−125) = −36.25 → clamp at 0.
		{0, -128, 0},
	} {
		if got := l.Apply(test.qa, test.qb); got != test.want {
			t.Errorf("Apply(%d, %d) = %d, want %d", test.qa, test.qb, got, test.want)
		}
	}
}

// Rescale worked by hand: S_in 0.1, Z_in 2 → S_out 0.05, Z_out 0 over 4
// codes: M = 0.1/(0.05·4) = 0.5 exactly (0.05 and 0.1 share a mantissa).
func TestRescaleHandWorked(t *testing.T) {
	r, err := NewRescale(ActQuant{Scale: 0.1, ZeroPoint: 2, Bits: 8}, ActQuant{Scale: 0.05, ZeroPoint: 0, Bits: 8}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.M0 != 1<<30 || r.Shift != 0 || r.QMin != 0 || r.QMax != 255 {
		t.Fatalf("rescale %+v", r)
	}
	for _, test := range []struct {
		codes []int32
		want  int32
	}{
		{[]int32{2, 3, 5, 8}, 5},           // Σ(q−2) = 10, ·0.5 = 5
		{[]int32{3, 2, 2, 2}, 1},           // 1·0.5 = 0.5 rounds up to 1
		{[]int32{0, 0, 0, 0}, 0},           // −8·0.5 = −4, clamped to 0
		{[]int32{255, 255, 255, 255}, 255}, // 506, clamped
	} {
		var acc int32
		for _, q := range test.codes {
			acc += q - 2
		}
		if got := r.Apply(acc); got != test.want {
			t.Errorf("%v: %d, want %d", test.codes, got, test.want)
		}
	}
	if _, err := NewRescale(r.In, r.Out, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("count 0: %v", err)
	}
}

func TestClampFor(t *testing.T) {
	for _, test := range []struct {
		a           ActQuant
		relu, relu6 bool
		lo, hi      int32
	}{
		{ActQuant{Scale: 0.05, ZeroPoint: 10, Bits: 8}, false, false, 0, 255},
		{ActQuant{Scale: 0.05, ZeroPoint: 10, Bits: 8}, true, false, 10, 255},
		// 6/0.05 = 120 → [10, 130].
		{ActQuant{Scale: 0.05, ZeroPoint: 10, Bits: 8}, false, true, 10, 130},
		// 6/0.1 = 60 → [−128, −68].
		{ActQuant{Scale: 0.1, ZeroPoint: -128, Bits: 8, Signed: true}, true, true, -128, -68},
		// 6/0.01 = 600 is past the range: qmax stays 255.
		{ActQuant{Scale: 0.01, ZeroPoint: 0, Bits: 8}, false, true, 0, 255},
		// 4-bit signed, Z −8, 6/1 = 6 → [−8, −2].
		{ActQuant{Scale: 1, ZeroPoint: -8, Bits: 4, Signed: true}, false, true, -8, -2},
	} {
		lo, hi := ClampFor(test.a, test.relu, test.relu6)
		if lo != test.lo || hi != test.hi {
			t.Errorf("%+v relu=%v relu6=%v: [%d, %d], want [%d, %d]", test.a, test.relu, test.relu6, lo, hi, test.lo, test.hi)
		}
	}
}

func TestGraphRoundTrip(t *testing.T) {
	m := graphModel(t, 3)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != 2 {
		t.Errorf("version %d, want 2", v)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip changed the model:\n got %+v\nwant %+v", got, m)
	}
	// Groups 1 (dense, set explicitly) stays 1.
	d := tinyModel(t, 3)
	d.Layers[0].(*Conv2d).Groups = 1
	if b, err = d.Marshal(); err != nil {
		t.Fatal(err)
	}
	if got, err = Unmarshal(b); err != nil || got.Layers[0].(*Conv2d).Groups != 1 {
		t.Errorf("groups 1 round trip: %v, %+v", err, got)
	}
}

// setVersion rewrites the header's version and reseals the checksum.
func setVersion(b []byte, v uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[8:], v)
	return reseal(b)
}

func TestVersion1Files(t *testing.T) {
	// A sequential model's records hold no version 2 field, so its encoding
	// with version 1 in the header is a version 1 file.
	m := tinyModel(t, 3)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(setVersion(b, 1))
	if err != nil {
		t.Fatalf("version 1 file: %v", err)
	}
	if !reflect.DeepEqual(got, m) || got.Inputs != nil {
		t.Errorf("version 1 file decoded differently")
	}
	// A version 1 header over version 2 records is refused.
	g, err := graphModel(t, 3).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(setVersion(g, 1)); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "version 1 file with a version 2 record") {
		t.Errorf("v2 records under a v1 header: %v", err)
	}
}

func TestInspectGraph(t *testing.T) {
	s, err := Inspect(graphModel(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Layers[2].From; !reflect.DeepEqual(got, []int{1, 2}) {
		t.Errorf("add reads %v, want [1 2]", got)
	}
	if s.Layers[1].Groups != 4 || s.Layers[0].Groups != 2 || s.Layers[3].In != (Shape{4, 6, 6}) || s.Layers[3].Out != (Shape{8, 6, 6}) {
		t.Errorf("layers %+v", s.Layers[:4])
	}
	// Multiply-adds by hand: pw (2 groups of 1 → 2 channels, 1×1) has 4
	// weights at 6×6 positions, dw 4·9 weights at 6×6, fc 8·3; the add,
	// concat and pools none.
	wantMACs := []int64{4 * 36, 36 * 36, 0, 0, 0, 0, 0, 8 * 3}
	for i, l := range s.Layers {
		if l.MACs != wantMACs[i] {
			t.Errorf("layer %d (%s): %d MACs, want %d", i, l.Name, l.MACs, wantMACs[i])
		}
	}
	if s.MACs != 144+1296+24 {
		t.Errorf("model: %d MACs, want %d", s.MACs, 144+1296+24)
	}
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"conv2d/g4", " t1,t2 ", " t3,t1 ", "globalavgpool", "8x1x1", " 1296\n", " 1464 ", "1.46k multiply-adds per image"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("inspect text lacks %q:\n%s", want, b.String())
		}
	}
}

func TestFusedActivation(t *testing.T) {
	a := ActQuant{Scale: 0.05, ZeroPoint: 10, Bits: 8}
	for _, test := range []struct {
		qmin, qmax  int32
		relu, relu6 bool
	}{
		{0, 255, false, false},
		{10, 255, true, false},
		{10, 130, true, true}, // ClampFor(a, _, true)
		{0, 130, false, false},
	} {
		relu, relu6 := fused(a, test.qmin, test.qmax)
		if relu != test.relu || relu6 != test.relu6 {
			t.Errorf("[%d, %d]: relu %v relu6 %v, want %v %v", test.qmin, test.qmax, relu, relu6, test.relu, test.relu6)
		}
	}
}
