package onnx

import (
	"math"
	"math/rand/v2"

	"github.com/qatgo/qatgo/intmodel"
)

// A plain integer reference of an intmodel.Model, written out loop by loop
// so that the ONNX graphs are checked against something independent of
// both the exporter and intruntime.

// refSRDHM is gemmlowp's SaturatingRoundingDoublingHighMul.
func refSRDHM(a, b int32) int32 {
	if a == math.MinInt32 && b == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	return int32((ab + nudge) / (1 << 31))
}

// refRDBPOT is gemmlowp's RoundingDivideByPOT.
func refRDBPOT(x int32, e int) int32 {
	mask := int32(1)<<e - 1
	if e == 31 {
		mask = math.MaxInt32
	}
	rem := x & mask
	th := mask >> 1
	if x < 0 {
		th++
	}
	r := x >> e
	if rem > th {
		r++
	}
	return r
}

// refMBQM is TFLite's MultiplyByQuantizedMultiplier with a saturated left
// shift (as intruntime).
func refMBQM(x, m0 int32, shift int) int32 {
	if shift > 0 {
		v := int64(x) << shift
		v = max(min(v, math.MaxInt32), math.MinInt32)
		return refSRDHM(int32(v), m0)
	}
	return refRDBPOT(refSRDHM(x, m0), -shift)
}

// refQuantizeInput is q = clamp(Z + nearbyint(x·float32(1/S))).
func refQuantizeInput(a intmodel.ActQuant, x float32) int32 {
	inv := float32(1) / a.Scale
	q := int32(math.RoundToEven(float64(x*inv))) + a.ZeroPoint
	lo, hi := a.Range()
	return max(lo, min(hi, q))
}

// refRun runs one image x (C·H·W floats) through m and returns the last
// layer's codes and the dequantized logits.
func refRun(m *intmodel.Model, x []float32) ([]int32, []float32) {
	cur := make([]int32, len(x))
	for i, v := range x {
		cur[i] = refQuantizeInput(m.Input, v)
	}
	sh := m.InputShape
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *intmodel.Conv2d:
			cur, sh = refConv(l, cur, sh)
		case *intmodel.Linear:
			cur = refLinear(l, cur)
			sh = intmodel.Shape{C: l.OutFeatures, H: 1, W: 1}
		case *intmodel.MaxPool2d:
			cur, sh = refPool(l.Pool2d, false, cur, sh)
		case *intmodel.AvgPool2d:
			cur, sh = refPool(l.Pool2d, true, cur, sh)
		case *intmodel.Flatten:
			sh = intmodel.Shape{C: sh.Size(), H: 1, W: 1}
		default:
			panic("refRun: unsupported layer")
		}
	}
	logits := make([]float32, len(cur))
	for i, q := range cur {
		logits[i] = float32(q-m.Output.ZeroPoint) * m.Output.Scale
	}
	return cur, logits
}

func refOut(q *intmodel.Quantized, c int, acc int32) int32 {
	if q.Bias != nil {
		acc += q.Bias[c]
	}
	y := refMBQM(acc, q.M0[c], q.Shift[c]) + q.OutAct.ZeroPoint
	return max(q.QMin, min(q.QMax, y))
}

func refConv(l *intmodel.Conv2d, x []int32, in intmodel.Shape) ([]int32, intmodel.Shape) {
	out, err := l.OutShape(in)
	if err != nil {
		panic(err)
	}
	zx := l.InAct.ZeroPoint
	y := make([]int32, out.Size())
	for o := range l.OutChannels {
		for oh := range out.H {
			for ow := range out.W {
				var acc int32
				for c := range l.InChannels {
					for kh := range l.KernelH {
						for kw := range l.KernelW {
							ih, iw := oh*l.StrideH-l.PadH+kh, ow*l.StrideW-l.PadW+kw
							if ih < 0 || iw < 0 || ih >= in.H || iw >= in.W {
								continue // padding holds Z_X: contributes 0
							}
							w := int32(l.Weights[((o*l.InChannels+c)*l.KernelH+kh)*l.KernelW+kw])
							acc += w * (x[(c*in.H+ih)*in.W+iw] - zx)
						}
					}
				}
				y[(o*out.H+oh)*out.W+ow] = refOut(&l.Quantized, o, acc)
			}
		}
	}
	return y, out
}

func refLinear(l *intmodel.Linear, x []int32) []int32 {
	y := make([]int32, l.OutFeatures)
	for o := range l.OutFeatures {
		var acc int32
		for k := range l.InFeatures {
			acc += int32(l.Weights[o*l.InFeatures+k]) * (x[k] - l.InAct.ZeroPoint)
		}
		y[o] = refOut(&l.Quantized, o, acc)
	}
	return y
}

// refPool is max pooling, or average pooling of the in-bounds codes with
// the sum rounded half away from zero: (sum ± cnt/2)/cnt in C's truncating
// division (TFLite).
func refPool(p intmodel.Pool2d, avg bool, x []int32, in intmodel.Shape) ([]int32, intmodel.Shape) {
	l := &intmodel.MaxPool2d{Pool2d: p}
	out, err := l.OutShape(in)
	if err != nil {
		panic(err)
	}
	y := make([]int32, out.Size())
	for c := range out.C {
		for oh := range out.H {
			for ow := range out.W {
				m, sum, cnt := int32(math.MinInt32), int32(0), int32(0)
				for kh := range p.KernelH {
					for kw := range p.KernelW {
						ih, iw := oh*p.StrideH-p.PadH+kh, ow*p.StrideW-p.PadW+kw
						if ih >= 0 && iw >= 0 && ih < in.H && iw < in.W {
							v := x[(c*in.H+ih)*in.W+iw]
							m = max(m, v)
							sum += v
							cnt++
						}
					}
				}
				if avg {
					if sum >= 0 {
						m = (sum + cnt/2) / cnt
					} else {
						m = (sum - cnt/2) / cnt
					}
				}
				y[(c*out.H+oh)*out.W+ow] = m
			}
		}
	}
	return y, out
}

// tinyModel is the hand-made model of the tests: input 1×6×6 (S = 1/64,
// Z = 3: a nonzero zero point, so padding must be Z_X), conv 3×3 1→2 with
// padding 1 and per-channel weight scales, fused ReLU, maxpool 2, flatten,
// linear 18→3 with a per-tensor weight scale and a signed output.
func tinyModel() *intmodel.Model {
	in := intmodel.ActQuant{Scale: 1.0 / 64, ZeroPoint: 3, Bits: 8}
	a1 := intmodel.ActQuant{Scale: 0.05, ZeroPoint: 10, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.1, ZeroPoint: -5, Bits: 8, Signed: true}
	conv := &intmodel.Conv2d{
		Name: "conv1", InChannels: 1, OutChannels: 2, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
		Quantized: intmodel.Quantized{
			WeightBits: 8,
			Weights: []int8{
				12, -40, 7, 90, 127, -3, -60, 25, 33, // out 0
				-128, 5, 64, 0, -17, 88, 41, -90, 2, // out 1
			},
			WeightScale: []float32{0.011, 0.0075},
			InAct:       in, OutAct: a1,
			Bias: []int32{37, -1200},
		},
	}
	fc := &intmodel.Linear{
		Name: "fc", InFeatures: 18, OutFeatures: 3,
		Quantized: intmodel.Quantized{
			WeightBits: 8,
			Weights: []int8{
				10, -20, 30, -40, 50, -60, 70, -80, 90, -100, 110, -120, 127, -128, 1, 2, 3, 4,
				-5, 17, 99, 0, -33, 45, 12, -7, 63, 21, -99, 8, 15, -16, 23, 42, -64, 77,
				127, 127, 127, 127, -128, -128, -128, -128, 0, 0, 0, 0, 55, -55, 66, -66, 9, -9,
			},
			WeightScale: []float32{0.004},
			InAct:       a1, OutAct: out,
			Bias: []int32{500, -2500, 0},
		},
	}
	for _, q := range []struct {
		q    *intmodel.Quantized
		n    int
		relu bool
	}{{&conv.Quantized, 2, true}, {&fc.Quantized, 3, false}} {
		if err := q.q.SetRequant(q.n); err != nil {
			panic(err)
		}
		q.q.SetClamp(q.relu)
	}
	return &intmodel.Model{
		Input: in, InputShape: intmodel.Shape{C: 1, H: 6, W: 6}, Output: out,
		Layers: []intmodel.Layer{conv, &intmodel.MaxPool2d{Name: "pool1", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}}, &intmodel.Flatten{Name: "flat"}, fc},
		Meta:   map[string]string{"source": "tinyModel"},
	}
}

// randomAct returns a random activation quantization of the given width.
func randomAct(r *rand.Rand, scale float64, bits int, signed bool) intmodel.ActQuant {
	a := intmodel.ActQuant{Scale: float32(scale), Bits: bits, Signed: signed}
	lo, hi := a.Range()
	a.ZeroPoint = lo + r.Int32N(hi-lo+1)/2 + r.Int32N((hi-lo)/4+1)
	return a
}

func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

// fillQuantized fills q with random weights (wbits wide), per-channel or
// per-tensor scales, biases, and an output scale chosen so that the
// multiplier M = S_W·S_X/S_Y is near the one that spreads typical
// accumulators over the output range (times up to 8 either way; now and
// then M > 1, which exercises the left shift).
func fillQuantized(r *rand.Rand, q *intmodel.Quantized, outC, k, wbits int, perChannel bool, out intmodel.ActQuant, relu bool) {
	q.WeightBits = wbits
	wmax := int32(1)<<(wbits-1) - 1
	q.Weights = make([]int8, outC*k)
	for i := range q.Weights {
		q.Weights[i] = int8(r.Int32N(2*wmax+2) - wmax - 1)
	}
	n := 1
	if perChannel {
		n = outC
	}
	base := logUniform(r, 1e-3, 1e-1)
	q.WeightScale = make([]float32, n)
	for i := range q.WeightScale {
		q.WeightScale[i] = float32(base * logUniform(r, 0.5, 2))
	}
	typAcc := math.Sqrt(float64(k)) * float64(wmax) / 2 * 60
	q.Bias = make([]int32, outC)
	for i := range q.Bias {
		q.Bias[i] = int32((2*r.Float64() - 1) * typAcc)
	}
	lo, hi := out.Range()
	m := float64(hi-lo) / 2 / typAcc * logUniform(r, 1.0/8, 8)
	if r.IntN(20) == 0 {
		m = logUniform(r, 1, 50) // a left shift
	}
	sw := float64(q.WeightScale[0])
	out.Scale = float32(sw * float64(q.InAct.Scale) / m)
	q.OutAct = out
	if err := q.SetRequant(outC); err != nil {
		panic(err)
	}
	q.SetClamp(relu)
}

// randomModel returns conv(k×k, pad) → [ReLU] → maxpool 2 → flatten → linear
// with random sizes and quantization; convOnly and linearOnly keep just the
// one quantized layer (to measure one requantization at a time).
func randomModel(r *rand.Rand, bits int, convOnly, linearOnly bool) *intmodel.Model {
	signedIn := r.IntN(2) == 0
	in := randomAct(r, logUniform(r, 1e-3, 1e-1), bits, signedIn)
	cin, cout := 1+r.IntN(3), 1+r.IntN(6)
	h := 6 + r.IntN(6)
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: cin, H: h, W: h}}
	if linearOnly {
		k := 8 + r.IntN(200)
		m.InputShape = intmodel.Shape{C: k, H: 1, W: 1}
		fc := &intmodel.Linear{Name: "fc", InFeatures: k, OutFeatures: 1 + r.IntN(16)}
		fc.InAct = in
		fillQuantized(r, &fc.Quantized, fc.OutFeatures, k, 8, r.IntN(2) == 0, randomAct(r, 1, bits, r.IntN(2) == 0), r.IntN(2) == 0)
		m.Layers = []intmodel.Layer{fc}
		m.Output = fc.OutAct
		return m
	}
	kk := 1 + 2*r.IntN(2)
	conv := &intmodel.Conv2d{Name: "conv", InChannels: cin, OutChannels: cout, KernelH: kk, KernelW: kk, StrideH: 1 + r.IntN(2), StrideW: 1, PadH: r.IntN(kk/2 + 1), PadW: r.IntN(kk/2 + 1)}
	conv.InAct = in
	fillQuantized(r, &conv.Quantized, cout, conv.K(), 8, r.IntN(4) != 0, randomAct(r, 1, bits, r.IntN(2) == 0), r.IntN(2) == 0)
	m.Layers = []intmodel.Layer{conv}
	m.Output = conv.OutAct
	if convOnly {
		return m
	}
	sh, err := conv.OutShape(m.InputShape)
	if err != nil {
		panic(err)
	}
	pk := 2 + r.IntN(2)
	pg := intmodel.Pool2d{KernelH: pk, KernelW: pk, StrideH: 2, StrideW: 1 + r.IntN(2), PadH: r.IntN(pk/2 + 1), PadW: r.IntN(pk/2 + 1)}
	var pool intmodel.Layer = &intmodel.MaxPool2d{Name: "pool", Pool2d: pg}
	if r.IntN(2) == 0 {
		pool = &intmodel.AvgPool2d{Name: "avgpool", Pool2d: pg}
	}
	sh, err = pool.OutShape(sh)
	if err != nil {
		panic(err)
	}
	fc := &intmodel.Linear{Name: "fc", InFeatures: sh.Size(), OutFeatures: 1 + r.IntN(10)}
	fc.InAct = conv.OutAct
	fillQuantized(r, &fc.Quantized, fc.OutFeatures, fc.InFeatures, 8, r.IntN(2) == 0, randomAct(r, 1, 8, true), false)
	m.Layers = append(m.Layers, pool, &intmodel.Flatten{Name: "flatten"}, fc)
	m.Output = fc.OutAct
	return m
}

// randomInputs returns n images of m's input shape, spread a little wider
// than the input's representable range (so that clamping happens too).
func randomInputs(r *rand.Rand, m *intmodel.Model, n int) []float32 {
	lo, hi := m.Input.Range()
	rmin := float64(m.Input.Scale) * float64(lo-m.Input.ZeroPoint)
	rmax := float64(m.Input.Scale) * float64(hi-m.Input.ZeroPoint)
	span := rmax - rmin
	x := make([]float32, n*m.InputShape.Size())
	for i := range x {
		x[i] = float32(rmin - 0.05*span + r.Float64()*1.1*span)
	}
	return x
}
