package intruntime

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/intmodel"
)

// TestDirectPlanHandWorked checks blocks of LeNet-5's two convolutions.
//
// conv1 (1×28×28 input, 5×5): block (group 0, quad 0) is k = 0..3 =
// (ky 0, kx 0..3) for columns (oy 0, ox 0..15): offsets ox + kx, all in
// channel 0, so lane 0 is 0 1 2 3 and lane 1 is 1 2 3 4, windows at 0 and
// 64.
//
// conv2 (20×12×12 input, 5×5): quad 6 is k = 24..27 = channel 0 (ky 4,
// kx 4) and channel 1 (ky 0, kx 0..2). Lane 0 (oy 0, ox 0) reads channel 0
// at 4·12 + 4 = 52 and channel 1 at 0, 1, 2: windows at 52 and 0, indices
// 0 64 65 66; lane 1 (ox 1) one further in each: 1 65 66 67.
func TestDirectPlanHandWorked(t *testing.T) {
	m := leNet5(t, 1, 8)
	r, err := NewRunner(m, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	e := r.engines[0]
	p1, p2 := e.steps[0].direct, e.steps[2].direct
	if p1 == nil || p2 == nil {
		t.Fatalf("direct plans %v %v, want both", p1 != nil, p2 != nil)
	}
	if g := p1.entries[0]; g.c != [2]int32{0, 0} || g.off != [2]int32{0, 64} || !slices.Equal(g.idx[:8], []uint8{0, 1, 2, 3, 1, 2, 3, 4}) {
		t.Errorf("conv1 block 0: c %v off %v idx %v", g.c, g.off, g.idx[:8])
	}
	if g := p2.entries[6]; g.c != [2]int32{0, 1} || g.off != [2]int32{52, 0} || !slices.Equal(g.idx[:8], []uint8{0, 64, 65, 66, 1, 65, 66, 67}) {
		t.Errorf("conv2 quad 6: c %v off %v idx %v", g.c, g.off, g.idx[:8])
	}
	for i, want := range []bool{true, false, true, false, false, false, false} {
		// The pools are fused into the convolutions, the flatten into
		// fc1's packing (16 features a channel: no padding).
		if s := e.steps[i]; s.fusePool != want || s.skip != (i == 1 || i == 3 || i == 4) {
			t.Errorf("step %d: fusePool %v skip %v", i, s.fusePool, s.skip)
		}
	}
	if f := e.steps[5].flat; f == nil || f.hw4 != 16 || f.src != 4 || e.steps[5].w.k != 800 {
		t.Errorf("fc1 packs from tensor 4 with 16 features a channel: got %+v", f)
	}
}

// convModel is conv (c→oc, k×k, stride s, pad p) on c×h×w → pool → flatten
// → linear to 3, random weights of wbits bits.
func convModel(t testing.TB, seed uint64, c, h, w, oc, k, s, p int, pool *intmodel.Pool2d, wbits int) *intmodel.Model {
	rng := rand.New(rand.NewPCG(seed, 3))
	in := intmodel.ActQuant{Scale: 1.0 / 255, ZeroPoint: 7, Bits: 8}
	a1 := intmodel.ActQuant{Scale: 0.01, ZeroPoint: 3, Bits: 8, Signed: true}
	out := intmodel.ActQuant{Scale: 0.1, ZeroPoint: 0, Bits: 8, Signed: true}
	conv := &intmodel.Conv2d{Name: "conv", InChannels: c, OutChannels: oc, KernelH: k, KernelW: k, StrideH: s, StrideW: s, PadH: p, PadW: p,
		Quantized: quantLayer(t, rng, oc, c*k*k, wbits, in, a1, false)}
	layers := []intmodel.Layer{conv}
	if pool != nil {
		layers = append(layers, &intmodel.MaxPool2d{Name: "pool", Pool2d: *pool})
	}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: c, H: h, W: w}, Output: a1, Layers: layers}
	return withHead(t, rng, m, wbits, out)
}

// withHead appends to m (its output quantized as m.Output) a Flatten and a
// 3-way fully connected layer into out, and validates it.
func withHead(t testing.TB, rng *rand.Rand, m *intmodel.Model, wbits int, out intmodel.ActQuant) *intmodel.Model {
	shapes, err := m.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	f := shapes[len(shapes)-1].Size()
	m.Layers = append(m.Layers, &intmodel.Flatten{Name: "flatten"},
		&intmodel.Linear{Name: "fc", InFeatures: f, OutFeatures: 3, Quantized: quantLayer(t, rng, 3, f, wbits, m.Output, out, false)})
	m.Output = out
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFastPathsAgree runs models with the direct packing, the fused max
// pool and the fully connected layer packed from the Flatten's input, and
// again with all switched off (im2col, separate pool, flattened rows), and
// wants identical codes in every layer: the fused conv's own output and
// the skipped Flatten's are recomputed by LayerCodes.
func TestFastPathsAgree(t *testing.T) {
	pool2 := &intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	for _, test := range []struct {
		name           string
		m              *intmodel.Model
		direct, fused  bool
		batch, workers int
		padPlan        bool // a padded conv's zero-point frames have a plan too (the fallback, also run)
	}{
		{"lenet5 w8", leNet5(t, 2, 8), true, true, 37, 1, false},
		{"lenet5 w4 2 workers", leNet5(t, 3, 4), true, true, 19, 2, false},
		{"lenet5 w8 batch 1", leNet5(t, 4, 8), true, true, 1, 1, false},
		// 5×3×3: quads straddle channels; 8×8 outputs.
		{"c5 3x3", convModel(t, 5, 5, 10, 10, 7, 3, 1, 0, pool2, 8), true, true, 9, 1, false},
		// Stride 2: 4×4 outputs, windows 2 rows apart.
		{"c2 3x3 s2", convModel(t, 6, 2, 9, 9, 4, 3, 2, 0, nil, 8), true, false, 5, 1, false},
		// Padding and 6×6 outputs: planned with pad bits (and zero-point
		// frames of 8×8, planned); the pool is still fused.
		{"c3 3x3 p1", convModel(t, 7, 3, 6, 6, 5, 3, 1, 1, pool2, 7), true, true, 6, 2, true},
		// Odd 5×5 output: pool not fused, planned (25 columns, 2 groups).
		{"c1 2x2 odd", convModel(t, 8, 1, 6, 6, 3, 2, 1, 0, pool2, 8), true, false, 4, 1, false},
		// 1×1 on 2×2 planes: a block's quad spans four channels, no plan
		// (im2col).
		{"c8 1x1 2x2", convModel(t, 15, 8, 2, 2, 4, 1, 1, 0, nil, 8), false, false, 3, 1, false},
		// 7×7 outputs (49 columns, 4 groups per image, 15 lanes dropped),
		// unpadded and padded (planned, frames planned too); stride 2 with
		// padding: planned on the 14×14 input, not on its 16×16 frames
		// (blocks span more than two windows there).
		{"c4 3x3 7x7", convModel(t, 10, 4, 9, 9, 6, 3, 1, 0, nil, 8), true, false, 7, 1, false},
		{"c4 3x3 p1 7x7", convModel(t, 11, 4, 7, 7, 6, 3, 1, 1, nil, 8), true, false, 5, 2, true},
		{"c6 3x3 p1 s2 14x14", convModel(t, 12, 6, 14, 14, 5, 3, 2, 1, nil, 8), true, false, 3, 1, false},
		// 7×7 output with a 2×2 pool: not fused (odd), planned.
		{"c2 3x3 p1 7x7 pool", convModel(t, 13, 2, 7, 7, 3, 3, 1, 1, pool2, 8), true, false, 4, 1, true},
		// Padding 2 around a 4×4 input: whole blocks of padding.
		{"c3 5x5 p2 4x4", convModel(t, 14, 3, 4, 4, 5, 5, 1, 2, nil, 8), true, false, 4, 1, true},
		// 5×5 and 7×7 kernels as 3×3 blocks by Winograd where the CPU
		// has its passes, a pool fused.
		{"c8 5x5 p2 12x12 pool wino", convModel(t, 20, 8, 12, 12, 10, 5, 1, 2, pool2, 8), true, true, 5, 2, true},
		{"c6 7x7 p3 16x16 wino", convModel(t, 21, 6, 16, 16, 5, 7, 1, 3, nil, 8), true, false, 3, 1, true},
		// 16 channels, 16×16: a tap convolution where the CPU has AMX
		// (tapconv.go), its pool fused; "slow" runs im2col.
		{"c16 3x3 p1 16x16 pool", convModel(t, 16, 16, 16, 16, 20, 3, 1, 1, pool2, 8), true, true, 3, 2, true},
		{"c16 3x3 p1 16x16", convModel(t, 17, 16, 16, 16, 20, 3, 1, 1, nil, 8), true, false, 3, 1, true},
		// Narrow outputs: the tap GEMM where the packing would be
		// im2col's (a fused pool on 14×14), and forced on a 7×7 one
		// (its flat positions requantized by requantFlat).
		{"c32 3x3 p1 14x14 pool", convModel(t, 18, 32, 14, 14, 20, 3, 1, 1, pool2, 8), true, true, 3, 1, true},
		{"c32 3x3 p1 7x7 forced", convModel(t, 19, 32, 7, 7, 17, 3, 1, 1, nil, 8), true, false, 5, 2, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			fast, err := NewRunner(test.m, test.batch, test.workers)
			if err != nil {
				t.Fatal(err)
			}
			defer fast.Close()
			slow, err := NewRunner(test.m, test.batch, test.workers)
			if err != nil {
				t.Fatal(err)
			}
			defer slow.Close()
			s := fast.engines[0].steps[0]
			if (s.direct != nil) != test.direct || s.fusePool != test.fused {
				t.Fatalf("direct %v fused %v, want %v %v", s.direct != nil, s.fusePool, test.direct, test.fused)
			}
			if got := s.padded != nil && s.padded.direct != nil; got != test.padPlan {
				t.Fatalf("padded conv planned %v, want %v", got, test.padPlan)
			}
			if got, want := s.tap != nil, s.wino == nil && host.tapGemm != nil && (strings.HasPrefix(test.name, "c16") || strings.HasPrefix(test.name, "c32")) &&
				fast.LayerShape(0).W >= host.tapMinOut; got != want {
				t.Fatalf("tap convolution %v, want %v", got, want)
			}
			if strings.HasSuffix(test.name, "wino") && host.wg.gemm != nil && s.wino == nil {
				t.Fatal("not planned by Winograd")
			}
			if strings.HasSuffix(test.name, "forced") {
				for _, e := range fast.engines {
					for i := range e.steps {
						if e.steps[i].tap != nil {
							e.steps[i].direct, e.steps[i].padded = nil, nil
						}
					}
				}
			}
			// frames: padded convolutions packed from zero-point frames
			// (their fallback); slow: no plan, no frames, no fused pool,
			// no operands planned for the requantization.
			frames, err := NewRunner(test.m, test.batch, test.workers)
			if err != nil {
				t.Fatal(err)
			}
			defer frames.Close()
			for _, e := range frames.engines {
				for i := range e.steps {
					if e.steps[i].padded != nil {
						e.steps[i].direct = nil
					}
				}
			}
			for _, e := range slow.engines {
				for i := range e.steps {
					e.steps[i].direct, e.steps[i].padded, e.steps[i].fusePool, e.steps[i].skip, e.steps[i].tap = nil, nil, false, false, nil
					e.steps[i].wino, e.steps[i].stem = nil, nil
					e.steps[i].rq = nil // requantRows' operands set per call
					unfuseFlat(&e.steps[i])
				}
			}
			in := fast.InputSize()
			x := randImages(rand.New(rand.NewPCG(9, 9)), test.batch*in)
			lf := make([]float32, test.batch*fast.OutputSize())
			ls := make([]float32, len(lf))
			if err := fast.Run(x, test.batch, lf); err != nil {
				t.Fatal(err)
			}
			if err := slow.Run(x, test.batch, ls); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(lf, ls) {
				t.Errorf("logits differ: %v vs %v", lf[:3], ls[:3])
			}
			if err := frames.Run(x, test.batch, lf); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(lf, ls) {
				t.Errorf("logits with frames differ: %v vs %v", lf[:3], ls[:3])
			}
			for i := range fast.NumLayers() {
				cf, _ := fast.LayerCodes(i, nil)
				cs, _ := slow.LayerCodes(i, nil)
				if !slices.Equal(cf, cs) {
					t.Errorf("layer %d codes differ", i)
				}
			}
		})
	}
}

// unfuseFlat makes a fully connected step that packs from its Flatten's
// input (flatPack) pack the flattened rows instead, with the layer's own
// weights; the Flatten runs again once its skip is cleared.
func unfuseFlat(s *step) {
	if s.flat == nil {
		return
	}
	l := s.layer.(*intmodel.Linear)
	s.w, s.flat = packWeights(l.Weights, l.OutFeatures, l.InFeatures, 1<<l.InAct.Bits-1), nil
}

// The fused pool relies on the requantization being non-decreasing in the
// accumulator, clamp and saturation included, for M0 ≥ 0 and both shift
// signs (the multiplier's own left shift saturates too).
func TestRequantMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	acc := make([]int32, 4000)
	for trial := range 200 {
		for i := range acc {
			switch rng.IntN(5) {
			case 0:
				acc[i] = int32(rng.Uint32())
			case 1:
				acc[i] = []int32{math.MinInt32, math.MaxInt32, 0, -1, 1}[rng.IntN(5)]
			default:
				acc[i] = int32(rng.IntN(20001) - 10000)
			}
		}
		slices.Sort(acc)
		m0, shift := int32(1<<30+rng.IntN(1<<30)), -rng.IntN(32)
		switch trial % 5 {
		case 0:
			shift = rng.IntN(31) // left shift
		case 1:
			m0, shift = 0, 0
		}
		s := &step{w: &packedWeights{m: 1}, bias: []int32{int32(rng.Uint32()) >> rng.IntN(32)},
			m0: []int32{m0}, shift: []int{shift}, zy: int32(rng.IntN(256)), lo: 0, hi: 255}
		if trial%3 == 0 {
			s.lo, s.hi = int32(rng.IntN(100)), int32(150+rng.IntN(106))
		}
		out := make([]uint8, len(acc))
		(&engine{}).requantOne(out, acc, s, 0)
		for i := 1; i < len(out); i++ {
			if out[i] < out[i-1] {
				t.Fatalf("M0 %d shift %d bias %d: acc %d → %d but %d → %d", m0, shift, s.bias[0], acc[i-1], out[i-1], acc[i], out[i])
			}
		}
	}
}

// The pooling kernels of every variant the CPU runs against their
// scalar twins on extreme values and every tail length.
func TestMaxPairs32(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, w := range []int{2, 8, 10, 24, 26, 40} {
		for rows := 1; rows < 7; rows++ {
			src := make([]int32, 2*rows*w)
			for i := range src {
				src[i] = []int32{math.MinInt32, math.MaxInt32, -1, 0, 1, int32(rng.Uint32())}[rng.IntN(6)]
			}
			for _, vi := range variantImpls() {
				got, want := make([]int32, rows*w), make([]int32, rows*w)
				vi.maxRowPairs32(got, src, w)
				maxRowPairs32Scalar(want, src, w)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: maxRowPairs32 w %d rows %d: %v, want %v", vi.name, w, rows, got, want)
				}
				half := len(src) / 2
				got, want = make([]int32, half), make([]int32, half)
				vi.maxPairs32(got, src)
				maxPairs32Scalar(want, src)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: maxPairs32 %d: %v, want %v", vi.name, half, got, want)
				}
			}
		}
	}
	// max(−1, 5) = 5, max(MinInt32, MinInt32+1) = MinInt32+1, 8 pairs (one vector).
	src := []int32{-1, 5, math.MinInt32, math.MinInt32 + 1, 7, -7, 0, 0, 1, 2, 3, 4, 9, 8, math.MaxInt32, -1}
	for _, vi := range variantImpls() {
		got := make([]int32, 8)
		vi.maxPairs32(got, src)
		if want := []int32{5, math.MinInt32 + 1, 7, 0, 2, 4, 9, math.MaxInt32}; !slices.Equal(got, want) {
			t.Errorf("%s: maxPairs32 = %v, want %v", vi.name, got, want)
		}
	}
}

// Run stays allocation-free with the chunked conv path.
func TestRunNoAlloc(t *testing.T) {
	m := leNet5(t, 1, 8)
	r, err := NewRunner(m, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := randImages(rand.New(rand.NewPCG(1, 1)), 16*784)
	logits := make([]float32, 160)
	if n := testing.AllocsPerRun(3, func() {
		if err := r.Run(x, 16, logits); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per Run", n)
	}
}
