package intruntime

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/intmodel"
)

// A 4×4 fully connected layer worked by hand.
//
//	S_X = 0.5, Z_X = 10 (uint8): x = [1, 0, 2, −1] → q_X = [12, 10, 14, 8]
//	S_W = 0.25 (per tensor), q_W rows: [4 −8 2 0] [−4 4 4 4] [8 0 −8 12] [0 127 0 −128]
//	        real W rows: [1 −2 .5 0] [−1 1 1 1] [2 0 −2 3] [0 31.75 0 −32]
//	b = [0.5, −1, 0.25, 2], S_b = S_W·S_X = 0.125 → q_b = [4, −8, 2, 16]
//	float: W·x + b = [2.5, −1, −4.75, 34]
//	S_Y = 0.25, Z_Y = 5 (int8): M = 0.125/0.25 = 0.5 → (M0 = 2^30, shift 0)
//	integer: Σ q_W·(q_X − Z_X) + q_b = [20, −8, −38, 272]
//	         ·0.5 + 5 = [15, 1, −14, 141] → clamp to int8: [15, 1, −14, 127]
//	logits: 0.25·(q − 5) = [2.5, −1, −4.75, 30.5] (the last one saturated)
func TestLinearHandWorked(t *testing.T) {
	in := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 10, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.25, ZeroPoint: 5, Bits: 8, Signed: true}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 4, OutFeatures: 4, Quantized: intmodel.Quantized{
		WeightBits: 8, Weights: []int8{4, -8, 2, 0, -4, 4, 4, 4, 8, 0, -8, 12, 0, 127, 0, -128},
		WeightScale: []float32{0.25}, InAct: in, OutAct: out, Bias: []int32{4, -8, 2, 16}}}
	if err := fc.SetRequant(4); err != nil {
		t.Fatal(err)
	}
	if fc.M0[0] != 1<<30 || fc.Shift[0] != 0 {
		t.Fatalf("M0, shift = %d, %d, want 2^30, 0", fc.M0[0], fc.Shift[0])
	}
	fc.SetClamp(false)
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 4, H: 1, W: 1}, Output: out, Layers: []intmodel.Layer{fc}}
	for _, workers := range []int{1, 2} {
		r, err := NewRunner(m, 3, workers)
		if err != nil {
			t.Fatal(err)
		}
		x := []float32{1, 0, 2, -1, 1, 0, 2, -1, 1, 0, 2, -1}
		logits := make([]float32, 12)
		if err := r.Run(x, 3, logits); err != nil {
			t.Fatal(err)
		}
		wantCodes := []int32{15, 1, -14, 127}
		wantLogits := []float32{2.5, -1, -4.75, 30.5}
		in, _ := r.LayerCodes(-1, nil)
		codes, _ := r.LayerCodes(0, nil)
		for b := range 3 {
			if !slices.Equal(in[4*b:4*b+4], []int32{12, 10, 14, 8}) {
				t.Errorf("workers %d image %d: input codes %v", workers, b, in[4*b:4*b+4])
			}
			if !slices.Equal(codes[4*b:4*b+4], wantCodes) || !slices.Equal(logits[4*b:4*b+4], wantLogits) {
				t.Errorf("workers %d image %d: codes %v logits %v, want %v %v", workers, b, codes[4*b:4*b+4], logits[4*b:4*b+4], wantCodes, wantLogits)
			}
		}
		r.Close()
	}
}

// naiveConv is a direct integer convolution written plainly, NCHW codes.
func naiveConv(x []int32, c *intmodel.Conv2d, in, out intmodel.Shape, n int) []int32 {
	y := make([]int32, n*out.Size())
	zx := c.InAct.ZeroPoint
	for b := range n {
		for o := range c.OutChannels {
			for oy := range out.H {
				for ox := range out.W {
					var acc int32
					if c.Bias != nil {
						acc = c.Bias[o]
					}
					for ci := range c.InChannels {
						for ky := range c.KernelH {
							for kx := range c.KernelW {
								iy, ix := oy*c.StrideH-c.PadH+ky, ox*c.StrideW-c.PadW+kx
								if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
									continue // padding is real 0: (Z_X − Z_X)·w
								}
								w := int32(c.Weights[((o*c.InChannels+ci)*c.KernelH+ky)*c.KernelW+kx])
								acc += w * (x[((b*in.C+ci)*in.H+iy)*in.W+ix] - zx)
							}
						}
					}
					q := MultiplyByQuantizedMultiplier(acc, c.M0[o], c.Shift[o]) + c.OutAct.ZeroPoint
					y[((b*out.C+o)*out.H+oy)*out.W+ox] = min(max(q, c.QMin), c.QMax)
				}
			}
		}
	}
	return y
}

func TestConvAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i, test := range []struct {
		in                   intmodel.Shape
		outC, k, stride, pad int
		wbits                int
		signedIn, signedOut  bool
		relu                 bool
		batch                int
	}{
		{intmodel.Shape{C: 1, H: 8, W: 8}, 3, 3, 1, 1, 8, false, false, true, 2},
		{intmodel.Shape{C: 3, H: 7, W: 9}, 5, 3, 2, 1, 8, true, true, false, 3},
		{intmodel.Shape{C: 2, H: 5, W: 5}, 7, 5, 1, 2, 4, false, true, false, 5},
		{intmodel.Shape{C: 20, H: 12, W: 12}, 50, 5, 1, 0, 8, false, false, true, 2},
		{intmodel.Shape{C: 4, H: 6, W: 3}, 9, 2, 3, 0, 2, true, false, true, 1},
		{intmodel.Shape{C: 1, H: 28, W: 28}, 20, 5, 1, 0, 7, false, false, false, 3},
		// 1×1 (pointwise: im2col rows are the input planes themselves),
		// C not a multiple of 4, and its strided twin.
		{intmodel.Shape{C: 6, H: 7, W: 7}, 11, 1, 1, 0, 8, false, false, true, 3},
		{intmodel.Shape{C: 6, H: 7, W: 7}, 11, 1, 2, 0, 8, true, false, false, 2},
		// Tap convolutions where the CPU has AMX (tapconv.go): 4, 8 and 16
		// quads, two chunks of 16, five quads with a 5×5 kernel, M not a
		// multiple of 16, no padding.
		{intmodel.Shape{C: 16, H: 28, W: 28}, 16, 3, 1, 1, 8, false, false, true, 2},
		{intmodel.Shape{C: 32, H: 6, W: 20}, 40, 3, 1, 1, 8, true, false, false, 2},
		{intmodel.Shape{C: 64, H: 4, W: 18}, 64, 3, 1, 1, 8, false, true, true, 3},
		{intmodel.Shape{C: 128, H: 3, W: 18}, 17, 3, 1, 0, 8, false, false, false, 2},
		{intmodel.Shape{C: 20, H: 5, W: 20}, 7, 5, 1, 2, 8, false, false, true, 2},
		{intmodel.Shape{C: 32, H: 14, W: 14}, 40, 3, 1, 1, 8, true, false, false, 2}, // narrower than tapMinWidth: planned; with AMX the direct packing runs
		{intmodel.Shape{C: 64, H: 7, W: 7}, 64, 3, 1, 1, 8, false, true, true, 3},
	} {
		aq := func(signed bool, z int32) intmodel.ActQuant {
			if signed {
				z -= 128
			}
			return intmodel.ActQuant{Scale: 0.1, ZeroPoint: z, Bits: 8, Signed: signed}
		}
		inA, outA := aq(test.signedIn, 37), aq(test.signedOut, 100)
		conv := &intmodel.Conv2d{Name: "c", InChannels: test.in.C, OutChannels: test.outC, KernelH: test.k, KernelW: test.k,
			StrideH: test.stride, StrideW: test.stride, PadH: test.pad, PadW: test.pad,
			Quantized: quantLayer(t, rng, test.outC, test.in.C*test.k*test.k, test.wbits, inA, outA, test.relu)}
		// Spread outputs over the code range: M ≈ 0.5/(K·64).
		for c := range conv.M0 {
			conv.M0[c], conv.Shift[c] = intmodel.QuantizeMultiplier(1 / (float64(conv.K()) * 40 * (1 + rng.Float64())))
		}
		m := &intmodel.Model{Input: inA, InputShape: test.in, Output: outA, Layers: []intmodel.Layer{conv}}
		r, err := NewRunner(m, test.batch, 1)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, test.batch*test.in.Size())
		for j := range x {
			x[j] = 30 * (rng.Float32() - 0.5)
		}
		if err := r.Run(x, test.batch, make([]float32, test.batch*r.OutputSize())); err != nil {
			t.Fatal(err)
		}
		tap := r.engines[0].steps[0].tap != nil
		if want := r.engines[0].steps[0].wino == nil && host.tapGemm != nil && test.stride == 1 && test.in.C%4 == 0 && test.in.C >= tapMinChannels && test.k > 1 &&
			r.LayerShape(0).W >= host.tapMinOut; tap != want {
			t.Errorf("case %d: tap convolution %v, want %v", i, tap, want)
		}
		xc, _ := r.LayerCodes(-1, nil)
		got, _ := r.LayerCodes(0, nil)
		want := naiveConv(xc, conv, test.in, r.LayerShape(0), test.batch)
		distinct := map[int32]bool{}
		for j := range want {
			distinct[want[j]] = true
			if got[j] != want[j] {
				t.Fatalf("case %d: output %d = %d, want %d (%v)", i, j, got[j], want[j], host.kern)
			}
		}
		if len(distinct) < 5 {
			t.Errorf("case %d: only %d distinct output codes; the test is too weak", i, len(distinct))
		}
	}
}

func TestMaxPoolOnCodes(t *testing.T) {
	// Signed int8 codes (stored with offset 128), 2 channels of 3×4, pool
	// 2×2 stride 2 with padding 1 (padded positions ignored):
	//   channel 0 codes        windows (pad 1) → out 2×3
	//   -5  -1   0   7         [-5] [-1 0] [7]        → -5  0  7
	//    3 -128  2  -3         [3 ; 9] ...
	//    9   4  -7  -2
	in := intmodel.ActQuant{Scale: 1, ZeroPoint: 0, Bits: 8, Signed: true}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 2, H: 3, W: 4}, Output: in, Layers: []intmodel.Layer{
		&intmodel.MaxPool2d{Name: "p", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}}}}
	r, err := NewRunner(m, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{
		-5, -1, 0, 7,
		3, -128, 2, -3,
		9, 4, -7, -2,
		// channel 1: all negative, so an implicit 0 pad would be wrong
		-9, -8, -7, -6,
		-5, -4, -3, -2,
		-100, -50, -60, -1,
	}
	if err := r.Run(x, 1, make([]float32, 12)); err != nil {
		t.Fatal(err)
	}
	got, _ := r.LayerCodes(0, nil)
	// out[0][0] = max(-5) ; out[0][1] = max(-1, 0) ; out[0][2] = max(7)
	// out[1][0] = max(3, 9); out[1][1] = max(-128, 2, 4, -7); out[1][2] = max(-3, -2)
	want := []int32{-5, 0, 7, 9, 4, -2, -9, -7, -6, -5, -3, -1}
	if !slices.Equal(got, want) {
		t.Errorf("maxpool codes %v, want %v", got, want)
	}
}

func TestAvgPoolOnCodes(t *testing.T) {
	// One 2×2 window per output: [1 2; 3 5] → 11/4 = 2.75 → 3;
	// [-1 -2; 0 0] → -3/4 = -0.75 → -1; [-1 -1; 0 0] → -0.5 → -1 (away).
	in := intmodel.ActQuant{Scale: 1, ZeroPoint: 0, Bits: 8, Signed: true}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 3, H: 2, W: 2}, Output: in, Layers: []intmodel.Layer{
		&intmodel.AvgPool2d{Name: "p", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}}}}
	r, err := NewRunner(m, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run([]float32{1, 2, 3, 5, -1, -2, 0, 0, -1, -1, 0, 0}, 1, make([]float32, 3)); err != nil {
		t.Fatal(err)
	}
	got, _ := r.LayerCodes(0, nil)
	if want := []int32{3, -1, -1}; !slices.Equal(got, want) {
		t.Errorf("avgpool codes %v, want %v", got, want)
	}
}

// TestTinyModelAgainstFloat runs conv → ReLU (fused) → maxpool → flatten →
// linear and compares every layer with a float64 reference that takes the
// same input codes, computes the real output Σ W_real·X_real + b_real and
// quantizes it with q = clamp(Z_Y + round(y/S_Y)) using the multiplier the
// integer model holds (M0·2^(shift−31), so only the rounding can differ).
func TestTinyModelAgainstFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	in := intmodel.ActQuant{Scale: 1.0 / 255, ZeroPoint: 0, Bits: 8}
	mid := intmodel.ActQuant{Scale: 0.02, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.05, ZeroPoint: -10, Bits: 8, Signed: true}
	conv := &intmodel.Conv2d{Name: "conv", InChannels: 2, OutChannels: 6, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
		Quantized: quantLayer(t, rng, 6, 18, 8, in, mid, true)}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 6 * 5 * 5, OutFeatures: 10, Quantized: quantLayer(t, rng, 10, 150, 8, mid, out, false)}
	for i := range conv.Bias {
		conv.Bias[i] /= 20
	}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 2, H: 10, W: 10}, Output: out, Layers: []intmodel.Layer{
		conv, &intmodel.MaxPool2d{Name: "pool", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},
		&intmodel.Flatten{Name: "flat"}, fc}}
	const batch = 16
	r, err := NewRunner(m, batch, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := randImages(rng, batch*200)
	logits := make([]float32, batch*10)
	if err := r.Run(x, batch, logits); err != nil {
		t.Fatal(err)
	}
	codes := make([][]int32, 5)
	for i := -1; i < 4; i++ {
		codes[i+1], _ = r.LayerCodes(i, nil)
	}
	// Input: the reference quantizes in float64 with round half to even.
	for j, v := range x {
		want := int32(math.RoundToEven(float64(v) * 255))
		if codes[0][j] != min(want, 255) {
			t.Fatalf("input %d: code %d, want %d", j, codes[0][j], want)
		}
	}
	// realLayer computes the float reference of a quantized layer for one
	// output: y = S_W·S_X·Σ w·(q_x − Z_x) + S_W·S_X·q_b, requantized.
	requant := func(q *intmodel.Quantized, c int, dot int64) int32 {
		sw := float64(q.WeightScale[c])
		y := sw*float64(q.InAct.Scale)*float64(dot) + sw*float64(q.InAct.Scale)*float64(q.Bias[c])
		mq := float64(q.M0[c]) * math.Ldexp(1, q.Shift[c]-31) / (sw * float64(q.InAct.Scale))
		v := math.Round(y*mq) + float64(q.OutAct.ZeroPoint) // round half away from zero
		return int32(min(max(v, float64(q.QMin)), float64(q.QMax)))
	}
	var mism, total int
	check := func(layer int, got, want int32) {
		total++
		if got != want {
			mism++
			if d := got - want; d > 1 || d < -1 {
				t.Errorf("layer %d: code %d, float reference %d", layer, got, want)
			}
		}
	}
	// Conv.
	xs, cs := m.InputShape, r.LayerShape(0)
	for b := range batch {
		for o := range 6 {
			for oy := range cs.H {
				for ox := range cs.W {
					var dot int64
					for ci := range 2 {
						for ky := range 3 {
							for kx := range 3 {
								iy, ix := oy-1+ky, ox-1+kx
								if iy < 0 || iy >= xs.H || ix < 0 || ix >= xs.W {
									continue
								}
								dot += int64(conv.Weights[((o*2+ci)*3+ky)*3+kx]) * int64(codes[0][((b*2+ci)*xs.H+iy)*xs.W+ix])
							}
						}
					}
					check(0, codes[1][((b*6+o)*cs.H+oy)*cs.W+ox], requant(&conv.Quantized, o, dot))
				}
			}
		}
	}
	// Max pool 2×2 on the conv codes, flatten = same order.
	ps := r.LayerShape(1)
	for b := range batch {
		for c := range 6 {
			for y := range ps.H {
				for x := range ps.W {
					at := func(yy, xx int) int32 { return codes[1][((b*6+c)*cs.H+yy)*cs.W+xx] }
					want := max(at(2*y, 2*x), at(2*y, 2*x+1), at(2*y+1, 2*x), at(2*y+1, 2*x+1))
					if got := codes[2][((b*6+c)*ps.H+y)*ps.W+x]; got != want {
						t.Fatalf("pool: %d, want %d", got, want)
					}
				}
			}
		}
	}
	if !slices.Equal(codes[2], codes[3]) {
		t.Fatal("flatten changed the codes' NCHW order")
	}
	// Linear, then the logits.
	for b := range batch {
		for o := range 10 {
			var dot int64
			for k := range 150 {
				dot += int64(fc.Weights[o*150+k]) * int64(codes[3][b*150+k]-mid.ZeroPoint)
			}
			got := codes[4][b*10+o]
			check(3, got, requant(&fc.Quantized, o, dot))
			if want := out.Scale * float32(got-out.ZeroPoint); logits[b*10+o] != want {
				t.Errorf("logit %d,%d = %g, want %g", b, o, logits[b*10+o], want)
			}
		}
	}
	t.Logf("%d of %d codes differ by one from the float reference (double rounding)", mism, total)
	if mism*100 > total {
		t.Errorf("%d of %d codes differ; double rounding should make that rare", mism, total)
	}
}

func TestRunAllocatesNothing(t *testing.T) {
	m := leNet5(t, 1, 8)
	for _, workers := range []int{1, 2} {
		r, err := NewRunner(m, 8, workers)
		if err != nil {
			t.Fatal(err)
		}
		x := randImages(rand.New(rand.NewPCG(1, 1)), 8*784)
		logits := make([]float32, 80)
		if a := testing.AllocsPerRun(5, func() {
			if err := r.Run(x, 8, logits); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("workers %d: %g allocations per Run, want 0", workers, a)
		}
		r.Close()
	}
}

func TestWorkersAgree(t *testing.T) {
	m := leNet5(t, 2, 8)
	rng := rand.New(rand.NewPCG(3, 3))
	x := randImages(rng, 7*784)
	var ref []float32
	var refCodes []int32
	for _, workers := range []int{1, 2, 3} {
		r, err := NewRunner(m, 9, workers)
		if err != nil {
			t.Fatal(err)
		}
		logits := make([]float32, 70)
		if err := r.Run(x, 7, logits); err != nil { // a batch below capacity
			t.Fatal(err)
		}
		codes, _ := r.LayerCodes(2, nil)
		if ref == nil {
			ref, refCodes = logits, codes
			distinct := map[float32]bool{}
			for _, v := range logits {
				distinct[v] = true
			}
			if len(distinct) < 20 {
				t.Errorf("only %d distinct logits: the random model saturates", len(distinct))
			}
		} else if !slices.Equal(ref, logits) || !slices.Equal(refCodes, codes) {
			t.Errorf("workers %d disagree with workers 1", workers)
		}
		r.Close()
	}
}

func TestRunErrors(t *testing.T) {
	m := leNet5(t, 1, 4)
	r, err := NewRunner(m, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		r.Run(make([]float32, 784), 2, make([]float32, 20)),
		r.Run(make([]float32, 3*784), 3, make([]float32, 30)),
		r.Run(make([]float32, 784), 1, make([]float32, 5)),
	} {
		if err == nil {
			t.Error("bad Run arguments accepted")
		}
	}
	if _, err := r.LayerCodes(0, nil); err == nil {
		t.Error("LayerCodes before any Run accepted")
	}
	m.Layers[0].(*intmodel.Conv2d).QMax = 999
	if _, err := NewRunner(m, 1, 1); err == nil {
		t.Error("invalid model accepted")
	}
}

func TestQuantizeInput(t *testing.T) {
	// S = 0.5, Z = 3: x/S = [0.5 → 0 (even), 1.5 → 2, 2.5 → 2, −0.5 → −0, 1000 → clamp]
	q := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 3, Bits: 8}
	x := []float32{0.25, 0.75, 1.25, -0.25, 1000, -1000, float32(math.NaN())}
	u := make([]uint8, len(x))
	if err := QuantizeInput(u, x, q); err != nil {
		t.Fatal(err)
	}
	if want := []uint8{3, 5, 5, 3, 255, 0, 3}; !slices.Equal(u, want) {
		t.Errorf("uint8 codes %v, want %v", u, want)
	}
	s := make([]int8, len(x))
	q.Signed, q.ZeroPoint = true, -3
	if err := QuantizeInput(s, x, q); err != nil {
		t.Fatal(err)
	}
	if want := []int8{-3, -1, -1, -3, 127, -128, -3}; !slices.Equal(s, want) {
		t.Errorf("int8 codes %v, want %v", s, want)
	}
	if err := QuantizeInput(u, x, q); err == nil {
		t.Error("uint8 codes for a signed quantization accepted")
	}
	f := make([]float32, 2)
	Dequantize(f, []int8{-1, 5}, q)
	if f[0] != 1 || f[1] != 4 {
		t.Errorf("Dequantize = %v, want [1 4]", f)
	}
}

// The 2×2 stride-2 max pool has fast paths for even and odd sizes; check
// both against a plain loop, with signed codes (stored with an offset).
func TestMaxPool2x2Sizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	in := intmodel.ActQuant{Scale: 1, ZeroPoint: 0, Bits: 8, Signed: true}
	for _, sh := range []intmodel.Shape{{C: 3, H: 6, W: 8}, {C: 2, H: 5, W: 7}, {C: 4, H: 24, W: 24}, {C: 1, H: 2, W: 66}} {
		m := &intmodel.Model{Input: in, InputShape: sh, Output: in, Layers: []intmodel.Layer{
			&intmodel.MaxPool2d{Name: "p", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}}}}
		const batch = 3
		r, err := NewRunner(m, batch, 1)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, batch*sh.Size())
		for i := range x {
			x[i] = float32(rng.IntN(256) - 128)
		}
		if err := r.Run(x, batch, make([]float32, batch*r.OutputSize())); err != nil {
			t.Fatal(err)
		}
		got, _ := r.LayerCodes(0, nil)
		os := r.LayerShape(0)
		for p := range batch * sh.C {
			for y := range os.H {
				for xx := range os.W {
					at := func(yy, xi int) int32 { return int32(x[(p*sh.H+yy)*sh.W+xi]) }
					want := max(at(2*y, 2*xx), at(2*y, 2*xx+1), at(2*y+1, 2*xx), at(2*y+1, 2*xx+1))
					if g := got[(p*os.H+y)*os.W+xx]; g != want {
						t.Fatalf("shape %v plane %d (%d,%d): %d, want %d", sh, p, y, xx, g, want)
					}
				}
			}
		}
	}
}

// flatten's blocked transpose against the byte-by-byte relayout, on sizes
// around its 8×8 blocks.
func TestFlatten(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct{ C, H, W, n int }{{1, 1, 1, 1}, {2, 7, 7, 256}, {3, 4, 4, 9}, {1, 5, 3, 17}, {50, 4, 4, 64}, {2, 1, 8, 8}} {
		hw := c.H * c.W
		src := make([]uint8, c.C*c.n*hw)
		for i := range src {
			src[i] = uint8(rng.Uint32())
		}
		want := make([]uint8, len(src))
		for ch := range c.C {
			for b := range c.n {
				for j := range hw {
					want[(ch*hw+j)*c.n+b] = src[(ch*c.n+b)*hw+j]
				}
			}
		}
		got := make([]uint8, len(src))
		flatten(got, src, intmodel.Shape{C: c.C, H: c.H, W: c.W}, c.n)
		if !slices.Equal(got, want) {
			t.Errorf("%+v: flatten differs from the byte-by-byte relayout", c)
		}
	}
}

// TestPackFlat checks the B blocks packed from a Flatten's CNHW input
// against packRows of the flattened rows, each channel's features padded
// to whole quads: every real feature's byte at its (feature, image)
// place, zeros in the lanes past n, and the host's kernel bit for bit the
// same as the scalar one (the pad bytes included).
func TestPackFlat(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct{ ch, hw, n int }{
		{2, 4, 1}, {3, 5, 15}, {2, 13, 16}, {4, 49, 17}, {1, 16, 40}, {5, 7, 33},
		{32, 49, 48}, {3, 100, 33}, {50, 16, 32}, {2, 36, 16},
	} {
		f := &flatPack{c: c.ch, hw: c.hw, hw4: roundUp(c.hw, 4)}
		src := makeBuf(c.ch * c.n * c.hw)
		for i := range src[:cap(src)] {
			src[:cap(src)][i] = uint8(rng.IntN(256))
		}
		// The flattened, padded rows: row c·hw4 + p, column b.
		k := f.k()
		rows := make([]uint8, k*c.n)
		for ch := range c.ch {
			for p := range c.hw {
				for b := range c.n {
					rows[(ch*f.hw4+p)*c.n+b] = src[(ch*c.n+b)*c.hw+p]
				}
			}
		}
		k4 := ceilDiv(k, 4)
		want := make([]byte, packedCols(c.n, k4))
		packRows(want, rows, k, c.n, k4, make([]uint8, c.n))
		got := make([]byte, len(want))
		packFlat(got, src, f, c.n, k4, packFlatGroupScalar)
		for g := range groupsFor(c.n) {
			for q := range k4 {
				for l := range laneCols {
					for j := range 4 {
						i := (g*k4+q)*blockSize + 4*l + j
						real := (4*q+j)%f.hw4 < c.hw
						if b := g*laneCols + l; b >= c.n && got[i] != 0 || b < c.n && real && got[i] != want[i] {
							t.Fatalf("%+v: group %d quad %d lane %d byte %d: %d, want %d", c, g, q, l, j, got[i], want[i])
						}
					}
				}
			}
		}
		fast := make([]byte, len(want))
		packFlat(fast, src, f, c.n, k4, host.packFlatGroup)
		if !slices.Equal(fast, got) {
			t.Errorf("%+v: host packFlatGroup differs from packFlatGroupScalar", c)
		}
	}
}

// TestPackRows: every byte of a packed k×n matrix at its bIndex, zeros in
// the lanes past n of the ragged groups (and in the rows past k), for
// widths around the 16-column groups and their rounding to nr.
func TestPackRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, k := range []int{1, 4, 7, 9} {
		for _, n := range []int{1, 15, 16, 17, 31, 33, 49, 64, 70} {
			src := make([]uint8, k*n)
			for i := range src {
				src[i] = uint8(1 + rng.IntN(255))
			}
			k4 := ceilDiv(k, 4)
			dst := make([]byte, packedCols(n, k4))
			for i := range dst {
				dst[i] = 0xEE // stale bytes a reused buffer holds
			}
			packRows(dst, src, k, n, k4, make([]uint8, n))
			for r := range 4 * k4 {
				for c := range groupsFor(n) * laneCols {
					var want uint8
					if r < k && c < n {
						want = src[r*n+c]
					}
					if got := dst[bIndex(r, c, k4)]; got != want {
						t.Fatalf("k %d n %d: B[%d][%d] = %d, want %d", k, n, r, c, got, want)
					}
				}
			}
		}
	}
}
