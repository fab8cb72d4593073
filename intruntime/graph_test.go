package intruntime

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/fixedpoint"
	"github.com/qatgo/qatgo/internal/graphtest"
	"github.com/qatgo/qatgo/intmodel"
)

// mbqm is the shared fixed-point multiply, spelled out with its two steps.
func mbqm(x, m0 int32, shift int) int32 {
	if shift > 0 {
		return fixedpoint.SaturatingRoundingDoublingHighMul(int32(max(min(int64(x)<<shift, 1<<31-1), -1<<31)), m0)
	}
	return fixedpoint.RoundingDivideByPOT(fixedpoint.SaturatingRoundingDoublingHighMul(x, m0), -shift)
}

func clamp32(v, lo, hi int32) int32 { return min(max(v, lo), hi) }

// naiveGraph runs m on the true input codes x (n images, NCHW) with plain
// loops, one layer at a time, and returns every tensor's codes (NCHW).
func naiveGraph(t *testing.T, m *intmodel.Model, x []int32, n int) [][]int32 {
	shapes, err := m.TensorShapes()
	if err != nil {
		t.Fatal(err)
	}
	acts, _ := m.Acts()
	ts := [][]int32{x}
	for i, l := range m.Layers {
		ins := m.LayerInputs(i)
		in, out := shapes[ins[0]], shapes[i+1]
		src := ts[ins[0]]
		y := make([]int32, n*out.Size())
		switch l := l.(type) {
		case *intmodel.Conv2d:
			g := l.NumGroups()
			cpg, opg := l.InChannels/g, l.OutChannels/g
			for b := range n {
				for o := range l.OutChannels {
					for oy := range out.H {
						for ox := range out.W {
							acc := l.Bias[o]
							for ci := range cpg {
								c := o/opg*cpg + ci
								for ky := range l.KernelH {
									for kx := range l.KernelW {
										iy, ix := oy*l.StrideH-l.PadH+ky, ox*l.StrideW-l.PadW+kx
										if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
											continue
										}
										w := int32(l.Weights[((o*cpg+ci)*l.KernelH+ky)*l.KernelW+kx])
										acc += w * (src[((b*in.C+c)*in.H+iy)*in.W+ix] - l.InAct.ZeroPoint)
									}
								}
							}
							y[((b*out.C+o)*out.H+oy)*out.W+ox] = clamp32(mbqm(acc, l.M0[o], l.Shift[o])+l.OutAct.ZeroPoint, l.QMin, l.QMax)
						}
					}
				}
			}
		case *intmodel.Linear:
			for b := range n {
				for o := range l.OutFeatures {
					acc := l.Bias[o]
					for k := range l.InFeatures {
						acc += int32(l.Weights[o*l.InFeatures+k]) * (src[b*l.InFeatures+k] - l.InAct.ZeroPoint)
					}
					y[b*l.OutFeatures+o] = clamp32(mbqm(acc, l.M0[o], l.Shift[o])+l.OutAct.ZeroPoint, l.QMin, l.QMax)
				}
			}
		case *intmodel.MaxPool2d, *intmodel.AvgPool2d:
			var p intmodel.Pool2d
			var rq *intmodel.Rescale
			avg := false
			switch l := l.(type) {
			case *intmodel.MaxPool2d:
				p = l.Pool2d
			case *intmodel.AvgPool2d:
				p, rq, avg = l.Pool2d, l.Requant, true
			}
			for pl := range n * in.C {
				for oy := range out.H {
					for ox := range out.W {
						mx, sum, cnt := int32(-1<<31), int32(0), int32(0)
						for ky := range p.KernelH {
							for kx := range p.KernelW {
								iy, ix := oy*p.StrideH-p.PadH+ky, ox*p.StrideW-p.PadW+kx
								if iy < 0 || iy >= in.H || ix < 0 || ix >= in.W {
									continue
								}
								v := src[(pl*in.H+iy)*in.W+ix]
								mx, sum, cnt = max(mx, v), sum+v, cnt+1
							}
						}
						r := mx
						switch {
						case rq != nil:
							// Padding counts as real 0 in the divisor (in the multiplier).
							r = clamp32(mbqm(sum-cnt*rq.In.ZeroPoint, rq.M0, rq.Shift)+rq.Out.ZeroPoint, rq.QMin, rq.QMax)
						case avg:
							if sum >= 0 {
								r = (sum + cnt/2) / cnt
							} else {
								r = (sum - cnt/2) / cnt
							}
						}
						y[(pl*out.H+oy)*out.W+ox] = r
					}
				}
			}
		case *intmodel.Flatten:
			copy(y, src)
		case *intmodel.GlobalAvgPool:
			hw := in.H * in.W
			for pl := range n * in.C {
				var sum int32
				for _, v := range src[pl*hw : (pl+1)*hw] {
					sum += v - l.In.ZeroPoint
				}
				y[pl] = clamp32(mbqm(sum, l.M0, l.Shift)+l.Out.ZeroPoint, l.QMin, l.QMax)
			}
		case *intmodel.Add:
			b2 := ts[ins[1]]
			for j := range y {
				a := mbqm((src[j]-l.A.ZeroPoint)*(1<<l.LeftShift), l.M0A, l.ShiftA)
				b := mbqm((b2[j]-l.B.ZeroPoint)*(1<<l.LeftShift), l.M0B, l.ShiftB)
				y[j] = clamp32(mbqm(a+b, l.M0Out, l.ShiftOut)+l.Out.ZeroPoint, l.QMin, l.QMax)
			}
		case *intmodel.Concat:
			hw := out.H * out.W
			for b := range n {
				c0 := 0
				for k, t := range ins {
					s, r := shapes[t], l.Requant[k]
					for c := range s.C {
						for j := range hw {
							v := ts[t][(b*s.C+c)*hw+j]
							if acts[t] != l.Out {
								v = clamp32(mbqm(v-r.In.ZeroPoint, r.M0, r.Shift)+r.Out.ZeroPoint, r.QMin, r.QMax)
							}
							y[(b*out.C+c0+c)*hw+j] = v
						}
					}
					c0 += s.C
				}
			}
		default:
			t.Fatalf("naiveGraph: layer %T", l)
		}
		ts = append(ts, y)
	}
	return ts
}

func graphModels(t testing.TB, wbits int, seed uint64) map[string]*intmodel.Model {
	out := map[string]*intmodel.Model{}
	for name, f := range map[string]func(uint64, int) (*intmodel.Model, error){
		"residual": graphtest.Residual, "inverted": graphtest.InvertedResidual, "concat": graphtest.ConcatNet,
		"flat": graphtest.FlatNet, "framed": framedNet, "quad": quadNet, "wgframed": wgFramedNet,
	} {
		m, err := f(seed*100+uint64(len(name)), wbits)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = m
	}
	return out
}

// framedNet has 1×1 expansions on 6×64 planes whose only reader is a
// depthwise 3×3 (stride 1, then 2), so that where the CPU has the kernels
// the expansions write their outputs straight into its zero-point frames
// (step.framed: rows too wide for dwPerm's windows), and one expansion
// read twice that does not (its depthwise on 3×32 planes by dwPerm where
// the CPU has it).
func framedNet(seed uint64, wbits int) (*intmodel.Model, error) {
	b := graphtest.NewBuilder(seed, intmodel.Shape{C: 4, H: 6, W: 64}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, wbits)
	t1 := b.Conv(0, 12, 1, 1, 0, 1, true, false)
	t2 := b.Conv(t1, 12, 3, 1, 1, 12, false, true)
	t3 := b.Conv(t2, 8, 1, 1, 0, 1, false, false)
	t4 := b.Conv(t3, 16, 1, 1, 0, 1, true, false)
	t5 := b.Conv(t4, 16, 3, 2, 1, 16, false, true)
	t6 := b.Conv(t5, 8, 1, 1, 0, 1, false, false)
	t7 := b.Conv(t6, 8, 3, 1, 1, 8, false, false)
	b.Add(t6, t7, false, false)
	return b.Model()
}

// wgFramedNet chains convolutions so that where the CPU has the Winograd
// passes four producers write their outputs straight into their only
// reader's zero-point frames (step.framed): a stem (one channel, relu8:
// stemConv) and a Winograd 3×3 (wgConv) into Winograd 3×3 readers, a
// stride-2 3×3 by the GEMM into one, and a Winograd 3×3 into a 5×5 one
// (frames larger by its blocks' offsets); the Winograd 3×3 before the
// stride-2 layer writes plain planes.
func wgFramedNet(seed uint64, wbits int) (*intmodel.Model, error) {
	b := graphtest.NewBuilder(seed, intmodel.Shape{C: 1, H: 28, W: 28}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, wbits)
	relu6 := intmodel.ActQuant{Scale: 6.0 / 255, Bits: 8}
	t := b.ConvTo(0, 16, 3, 1, 1, 1, relu6, false, true)
	t = b.Conv(t, 16, 3, 1, 1, 1, true, false)
	t = b.Conv(t, 16, 3, 1, 1, 1, true, false)
	t = b.Conv(t, 16, 3, 2, 1, 1, true, false)
	t = b.Conv(t, 16, 3, 1, 1, 1, true, false)
	t = b.Conv(t, 8, 5, 1, 2, 1, false, false)
	b.Conv(t, 4, 1, 1, 0, 1, false, false)
	return b.Model()
}

// quadNet is MobileNetV2's inverted residuals without the adds: 1×1
// expansions, depthwise 3×3 onto ReLU6 codes [0, 255] with zero point 0
// (relu8) on 28×28 (stride 1 and 2), 14×14 (stride 2) and 7×7 planes,
// each read only by a 1×1 projection: where the CPU has the kernels, the
// depthwise layers write quad-interleaved outputs (step.quadOut) in every
// window mode and the projections copy their operand from them.
func quadNet(seed uint64, wbits int) (*intmodel.Model, error) {
	b := graphtest.NewBuilder(seed, intmodel.Shape{C: 4, H: 28, W: 28}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, wbits)
	relu6 := intmodel.ActQuant{Scale: 6.0 / 255, Bits: 8}
	t := 0
	for _, stride := range []int{1, 2, 2, 1} {
		t = b.ConvTo(t, 16, 1, 1, 0, 1, relu6, false, true)
		t = b.ConvTo(t, 16, 3, stride, 1, 16, relu6, false, true)
		t = b.Conv(t, 8, 1, 1, 0, 1, false, false)
	}
	return b.Model()
}

// Every layer of the random graph models against the plain reference, at
// 8- and 4-bit weights, three seeds, with 1 and 3 workers.
func TestGraphAgainstNaive(t *testing.T) {
	for _, wbits := range []int{8, 4} {
		for _, seed := range []uint64{1, 2, 3} {
			for name, m := range graphModels(t, wbits, seed) {
				const n = 5
				x := randImages(rand.New(rand.NewPCG(uint64(wbits), 5)), n*m.InputShape.Size())
				for _, workers := range []int{1, 3} {
					r, err := NewRunner(m, n, workers)
					if err != nil {
						t.Fatal(err)
					}
					// The plans the models are built to exercise, where the CPU
					// has their kernels.
					for _, c := range []struct {
						model string
						has   bool
						what  string
						of    func(*step) bool
						want  int
					}{
						{"framed", host.framePlanes != nil && host.requantRowsCh != nil, "steps write depthwise frames", func(s *step) bool { return s.framed != nil }, 2},
						{"framed", host.dwPerm != nil, "depthwise steps by dwPerm", func(s *step) bool { return s.dwPerm != nil }, 1},
						{"quad", host.dwPermQuad != nil, "depthwise steps write quad-interleaved outputs", func(s *step) bool { return s.quadOut }, 4},
						{"wgframed", host.wg.gemm != nil, "steps write Winograd frames", func(s *step) bool { return s.framed != nil }, 4},
						{"wgframed", host.stem != nil, "stems", func(s *step) bool { return s.stem != nil }, 1},
					} {
						if name != c.model || !c.has {
							continue
						}
						got := 0
						for i := range r.engines[0].steps {
							if c.of(&r.engines[0].steps[i]) {
								got++
							}
						}
						if got != c.want {
							t.Fatalf("%s: %d %s, want %d", name, got, c.what, c.want)
						}
					}
					if err := r.Run(x, n, make([]float32, n*r.OutputSize())); err != nil {
						t.Fatal(err)
					}
					in, _ := r.LayerCodes(-1, nil)
					want := naiveGraph(t, m, in, n)
					for i := range m.Layers {
						got, err := r.LayerCodes(i, nil)
						if err != nil {
							t.Fatal(err)
						}
						where := fmt.Sprintf("%s seed %d w%d workers %d layer %d (%s)", name, seed, wbits, workers, i, m.Layers[i].LayerName())
						if !slices.Equal(got, want[i+1]) {
							t.Errorf("%s: codes differ from the reference", where)
							continue
						}
						distinct := map[int32]bool{}
						for _, v := range got {
							distinct[v] = true
						}
						if len(got) > 40 && len(distinct) < 8 {
							t.Errorf("%s: only %d distinct codes; the test is too weak", where, len(distinct))
						}
					}
					r.Close()
				}
			}
		}
	}
}

// A depthwise 3×3 convolution (2 channels, pad 1, stride 2) worked by hand.
//
//	input (uint8, Z 10, S 1) channel 0: 11 12 13 / 14 15 16 / 17 18 19
//	(real 1..9), channel 1: all 12 (real 2)
//	weights: channel 0 all 1, channel 1 the centre 2 and the rest 0
//	bias 0, M = 1 (S_W 1, S_Y 1): (M0 2^30, shift 1), out Z 0 (uint8)
//	stride 2 pad 1 → 2×2 outputs per channel:
//	ch 0: windows at (−1,−1),(−1,1),(1,−1),(1,1): sums 1+2+4+5 = 12,
//	      2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28
//	ch 1: centre at (0,0),(0,2),(2,0),(2,2): 2·2 = 4 each
func TestDepthwiseHandWorked(t *testing.T) {
	in := intmodel.ActQuant{Scale: 1, ZeroPoint: 10, Bits: 8}
	out := intmodel.ActQuant{Scale: 1, ZeroPoint: 0, Bits: 8}
	w := []int8{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0}
	dw := &intmodel.Conv2d{Name: "dw", InChannels: 2, OutChannels: 2, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2,
		Quantized: intmodel.Quantized{WeightBits: 8, Weights: w, WeightScale: []float32{1}, InAct: in, OutAct: out, Bias: []int32{0, 0}}}
	if err := dw.SetRequant(2); err != nil {
		t.Fatal(err)
	}
	dw.SetClamp(false)
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 2, H: 3, W: 3}, Output: out, Layers: []intmodel.Layer{dw}}
	r, err := NewRunner(m, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 2, 2, 2, 2, 2, 2, 2, 2, 2}
	logits := make([]float32, 8)
	if err := r.Run(x, 1, logits); err != nil {
		t.Fatal(err)
	}
	if want := []float32{12, 16, 24, 28, 4, 4, 4, 4}; !slices.Equal(logits, want) {
		t.Errorf("depthwise outputs %v, want %v", logits, want)
	}
}

func TestGraphRunAllocatesNothing(t *testing.T) {
	for name, m := range graphModels(t, 8, 1) {
		r, err := NewRunner(m, 4, 2)
		if err != nil {
			t.Fatal(err)
		}
		x := randImages(rand.New(rand.NewPCG(1, 1)), 4*m.InputShape.Size())
		logits := make([]float32, 4*r.OutputSize())
		if a := testing.AllocsPerRun(5, func() {
			if err := r.Run(x, 4, logits); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %g allocations per Run, want 0", name, a)
		}
		r.Close()
	}
}

// The runtime's add (input tables, chunked output requantization) against
// intmodel.Add.Apply on every pair of codes, for random quantizations
// (signed and unsigned, output multipliers below and above 1) and fused
// ReLU/ReLU6 clamps.
func TestAddAllCodePairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	act := func(scale float32) intmodel.ActQuant {
		a := intmodel.ActQuant{Scale: scale, Bits: 8, Signed: rng.IntN(2) == 0, ZeroPoint: int32(rng.IntN(256))}
		if a.Signed {
			a.ZeroPoint -= 128
		}
		return a
	}
	computed := map[int]int{}
	for i := range 14 {
		sOut := 0.02 + rng.Float32()
		if i%4 == 3 && i < 12 {
			sOut = 1e-7 // M_out > 1: a left shift
		}
		a, b, o := act(0.01+rng.Float32()), act(0.01+rng.Float32()), act(sOut)
		relu := i%3 == 1
		if i >= 12 { // a ReLU onto unsigned codes from 0 (resnet20's adds)
			o.Signed, o.ZeroPoint, relu = false, 0, true
		}
		l, err := intmodel.NewAdd("add", a, b, o)
		if err != nil {
			t.Fatal(err)
		}
		l.QMin, l.QMax = intmodel.ClampFor(o, relu, i%3 == 2 && !relu)
		if i%4 == 3 && l.ShiftOut <= 0 {
			t.Fatalf("case %d: output shift %d, want > 0", i, l.ShiftOut)
		}
		const N = 256 * 256
		s := &step{add: *l, out: newAct(o, intmodel.Shape{C: N, H: 1, W: 1})}
		planAdd(s, l)
		e := &engine{}
		qa, qb, dst := make([]uint8, N), make([]uint8, N), make([]uint8, N)
		for j := range N {
			qa[j], qb[j] = uint8(j/256), uint8(j%256)
		}
		e.add(dst, qa, qb, s, 1)
		offA, offB := newAct(a, intmodel.Shape{}).off, newAct(b, intmodel.Shape{}).off
		bad := 0
		for j := range N {
			if want := l.Apply(int32(qa[j])-offA, int32(qb[j])-offB) + s.out.off; int32(dst[j]) != want {
				bad++
			}
		}
		if bad != 0 {
			t.Errorf("case %d (%+v): %d of %d code pairs differ from Add.Apply", i, l, bad, N)
		}
		if s.addLin != nil {
			computed[-3]++
		}
		if s.addPerm == nil {
			continue
		}
		if !s.addPerm.shifted {
			computed[s.addPerm.rq.kernel()]++
			continue
		}
		computed[-1]++
		if s.addPerm.rq.lo != 0 || s.addPerm.rq.hi != 255 {
			computed[-2]++
		}
		// The requantizing kernels on the same add, all pairs again.
		zy, lo, hi := l.Out.ZeroPoint+s.out.off, l.QMin+s.out.off, l.QMax+s.out.off
		ta, tb := addTable(l.A, l.LeftShift, l.M0A, l.ShiftA), addTable(l.B, l.LeftShift, l.M0B, l.ShiftB)
		if p := newAddPerm(l, ta, tb, zy, lo, hi); p != nil {
			computed[p.rq.kernel()]++
			clear(dst)
			host.addPairs(dst, qa, qb, p, s.addLUT)
			for j := range N {
				if want := s.addLUT[j]; dst[j] != want {
					t.Fatalf("case %d: requantizing add kernel %d: pair %d gives %d, want %d", i, p.rq.kernel(), j, dst[j], want)
				}
			}
		}
	}
	// Where the CPU computes adds (addPairs): by newAddShift's tables
	// (clamped by the packs, and to lo and hi) and by each requantization
	// variant: general, no negative correction, ReLU to [0, 255].
	if host.addPairs != nil && (computed[-1] == 0 || computed[-2] == 0 || computed[-1] == computed[-2] ||
		computed[rqExact] == 0 || computed[rqNoNeg] == 0 || computed[rqRelu8] == 0) {
		t.Errorf("computed adds by kernel %v: want shifted tables (-1) with and without a clamp (-2), rqExact, rqNoNeg, rqRelu8", computed)
	}
	// Where the CPU computes fitted adds (addLin): the eleven whose output
	// multiplier is below 1 (the three others' slopes are too steep).
	if host.addLin != nil && computed[-3] != 11 {
		t.Errorf("%d adds fitted as affine step functions (-3), want 11", computed[-3])
	}
	t.Logf("computed adds by kernel: %v", computed)
}

// Random graph topologies (graphtest.Random): every layer against the plain
// reference.
func TestRandomGraphs(t *testing.T) {
	kinds := map[intmodel.Kind]int{}
	for seed := range uint64(40) {
		wbits := []int{8, 4, 2}[seed%3]
		m, err := graphtest.Random(seed, wbits, 10)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, l := range m.Layers {
			kinds[l.Kind()]++
		}
		const n = 3
		x := randImages(rand.New(rand.NewPCG(seed, 5)), n*m.InputShape.Size())
		r, err := NewRunner(m, n, 1+int(seed%2))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Run(x, n, make([]float32, n*r.OutputSize())); err != nil {
			t.Fatal(err)
		}
		in, _ := r.LayerCodes(-1, nil)
		want := naiveGraph(t, m, in, n)
		for i := range m.Layers {
			got, _ := r.LayerCodes(i, nil)
			if !slices.Equal(got, want[i+1]) {
				t.Errorf("seed %d layer %d (%s %s): codes differ from the reference", seed, i, m.Layers[i].Kind(), m.Layers[i].LayerName())
			}
		}
		r.Close()
	}
	t.Logf("layer kinds: %v", kinds)
}

// A global average pool and a concat worked by hand.
//
//	input S 0.1, Z 2 (uint8), 2×2×2: channel 0 codes 2 3 5 8, channel 1 3 2 2 2
//	gap → S 0.05, Z 0, count 4: M = 0.1/(0.05·4) = 0.5
//	      ch 0: Σ(q−2) = 10 → 5; ch 1: Σ(q−2) = 1 → 0.5 rounds up → 1
//	concat(gap, gap) → S 0.1, Z 1: both inputs requantized, M = 0.5:
//	      5 → 2.5 → 3, + 1 = 4; 1 → 0.5 → 1, + 1 = 2 → [4 2 4 2]
func TestPoolConcatHandWorked(t *testing.T) {
	in := intmodel.ActQuant{Scale: 0.1, ZeroPoint: 2, Bits: 8}
	mid := intmodel.ActQuant{Scale: 0.05, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.1, ZeroPoint: 1, Bits: 8}
	gap, err := intmodel.NewGlobalAvgPool("gap", in, mid, 4)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := intmodel.NewConcat("cat", []intmodel.ActQuant{mid, mid}, out)
	if err != nil {
		t.Fatal(err)
	}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 2, H: 2, W: 2}, Output: out,
		Layers: []intmodel.Layer{gap, cat}, Inputs: [][]int{nil, {1, 1}}}
	r, err := NewRunner(m, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{0, 0.1, 0.3, 0.6, 0.1, 0, 0, 0} // 0.1·(q − 2)
	if err := r.Run(x, 1, make([]float32, 4)); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]int32{{2, 3, 5, 8, 3, 2, 2, 2}, {5, 1}, {4, 2, 4, 2}} {
		got, _ := r.LayerCodes(i-1, nil)
		if !slices.Equal(got, want) {
			t.Errorf("tensor %d: codes %v, want %v", i, got, want)
		}
	}
}

// A batch run a few images at a time through all layers (engine.chunk)
// gives the logits and every layer's codes of the batch run whole: the
// graph models (residual adds, concats, depthwise), LeNet-5 (whose fused
// pools leave their conv's output to LayerCodes to recompute, chunk by
// chunk) and random graphs, with 1 and 2 workers.
func TestChunkedRun(t *testing.T) {
	models := graphModels(t, 8, 7)
	models["lenet5"] = leNet5(t, 7, 8)
	for seed := range uint64(6) {
		m, err := graphtest.Random(100+seed, 8, 10)
		if err != nil {
			t.Fatal(err)
		}
		models[fmt.Sprintf("random %d", seed)] = m
	}
	for name, m := range models {
		const n = 11
		x := randImages(rand.New(rand.NewPCG(7, 8)), n*m.InputShape.Size())
		for _, workers := range []int{1, 2} {
			whole, err := newRunner(m, n, workers, n)
			if err != nil {
				t.Fatal(err)
			}
			chunked, err := newRunner(m, n, workers, 3)
			if err != nil {
				t.Fatal(err)
			}
			lw, lc := make([]float32, n*whole.OutputSize()), make([]float32, n*whole.OutputSize())
			if err := whole.Run(x, n, lw); err != nil {
				t.Fatal(err)
			}
			if err := chunked.Run(x, n, lc); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(lw, lc) {
				t.Errorf("%s, %d workers: logits differ", name, workers)
			}
			for i := -1; i < len(m.Layers); i++ {
				cw, err := whole.LayerCodes(i, nil)
				if err != nil {
					t.Fatal(err)
				}
				cc, err := chunked.LayerCodes(i, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(cw, cc) {
					t.Errorf("%s, %d workers: layer %d codes differ", name, workers, i)
				}
			}
			whole.Close()
			chunked.Close()
		}
	}
}

// chunkImages on the zoo's models (bytes of input and layer outputs per
// image, weight bytes): weight-heavy LeNet-5 and vgg-small keep the whole
// batch; MobileNetV2 and resnet20 run 26 and 38 images at a time; huge
// activations still 8; a small batch is never exceeded.
func TestChunkImages(t *testing.T) {
	for _, c := range []struct{ perImage, w, batch, want int }{
		{20494, 430500, 256, 256},   // LeNet-5
		{44826, 218256, 256, 256},   // vgg-small: 2·44,826 < 218,256
		{220378, 270608, 256, 38},   // resnet20: 8 MiB / 220,378
		{320426, 201632, 256, 26},   // MobileNetV2
		{64 << 20, 1 << 20, 256, 8}, // at least 8
		{320426, 201632, 5, 5},      // at most the batch
	} {
		if got := chunkImages(c.perImage, c.w, c.batch); got != c.want {
			t.Errorf("chunkImages(%d, %d, %d) = %d, want %d", c.perImage, c.w, c.batch, got, c.want)
		}
	}
}

// TestSumBytes: the word-at-a-time byte sum against a byte loop, all-255
// runs included (the 16-bit lanes' limit at 128 words), every tail length.
func TestSumBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{0, 1, 7, 8, 9, 49, 63, 64, 1023, 1024, 1025, 2100} {
		for _, full := range []bool{false, true} {
			b := make([]uint8, n)
			var want int32
			for i := range b {
				b[i] = uint8(rng.IntN(256))
				if full {
					b[i] = 255
				}
				want += int32(b[i])
			}
			if got := sumBytes(b); got != want {
				t.Errorf("n %d full %v: %d, want %d", n, full, got, want)
			}
		}
	}
	// Each CPU level's sumPlanes (the AVX-512 one up to 64 bytes; the Go
	// one's inline loops up to 1,024, 16 unrolled, and sumBytes calls),
	// against sumBytes a plane.
	for _, hw := range []int{1, 7, 8, 16, 24, 49, 64, 1023, 1024, 1032} {
		for _, full := range []bool{false, true} {
			const planes = 5
			src := make([]uint8, planes*hw+7)
			for i := range src {
				src[i] = uint8(rng.IntN(256))
				if full {
					src[i] = 255
				}
			}
			for _, vi := range variantImpls() {
				got := make([]int32, planes)
				vi.sumPlanes(got, src[:planes*hw], hw)
				for p, v := range got {
					if want := sumBytes(src[p*hw : (p+1)*hw]); v != want {
						t.Errorf("%s: sumPlanes hw %d full %v plane %d: %d, want %d", vi.name, hw, full, p, v, want)
					}
				}
			}
		}
	}
}

// TestFlatOutputMasks, hand-worked: 2×2 outputs in 4×4 frames, two images.
// Flat position i is frame i/16's (r/4, r%4), r = i mod 16: outputs at r
// = 0, 1, 4, 5 of each frame, so both masks are bits 0, 1, 4, 5 (0x33);
// the last output is at 16 + 5 = 21, so two masks.
func TestFlatOutputMasks(t *testing.T) {
	if got := flatOutputMasks(2, 2, 4, 4, 2); !slices.Equal(got, []uint16{0x33, 0x33}) {
		t.Errorf("masks %#x, want [0x33 0x33]", got)
	}
}

// The global average pool with its sums requantized in one planned call
// (step.gapRq) against Rescale.Apply per plane, for signed and unsigned
// inputs and outputs, with and without a ReLU clamp, on 4×4 to 9×9 planes.
func TestGlobalAvgPoolPlanned(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	act := func() intmodel.ActQuant {
		a := intmodel.ActQuant{Scale: 0.01 + rng.Float32(), Bits: 8, Signed: rng.IntN(2) == 0, ZeroPoint: int32(rng.IntN(256))}
		if a.Signed {
			a.ZeroPoint -= 128
		}
		return a
	}
	planned := 0
	for trial := range 40 {
		in, out := act(), act()
		side := 4 + rng.IntN(6)
		C, n := 1+rng.IntN(8), 1+rng.IntN(5)
		l, err := intmodel.NewGlobalAvgPool("gap", in, out, side*side)
		if err != nil {
			t.Fatal(err)
		}
		l.QMin, l.QMax = intmodel.ClampFor(out, trial%3 == 1, false)
		s := &step{in: newAct(in, intmodel.Shape{C: C, H: side, W: side}), out: newAct(out, intmodel.Shape{C: C, H: 1, W: 1}),
			rescale: []intmodel.Rescale{l.Rescale}}
		src := make([]uint8, C*n*side*side)
		for i := range src {
			src[i] = uint8(rng.Uint32())
		}
		want, got := make([]uint8, C*n), make([]uint8, C*n)
		globalAvgPool(want, src, s, n, nil)
		if s.gapRq = planGlobalAvgPool(s, l); s.gapRq == nil {
			continue
		}
		planned++
		globalAvgPool(got, src, s, n, make([]int32, C*n))
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (in %+v, out %+v, %d×%d): planned codes %v, want %v", trial, in, out, side, side, got, want)
		}
	}
	if host.requantPre != nil && planned < 30 {
		t.Errorf("only %d of 40 pools planned", planned)
	}
}

// TestLayerTimes: with TimeLayers on, every layer of every worker's runs
// is counted (images: each run's batch), convolutions take time, and the
// counts stop with TimeLayers(false) and restart from zero with true.
func TestLayerTimes(t *testing.T) {
	m := graphModels(t, 8, 1)["inverted"]
	const n = 6
	x := randImages(rand.New(rand.NewPCG(3, 3)), n*m.InputShape.Size())
	logits := make([]float32, n*10)
	for _, workers := range []int{1, 3} {
		r, err := NewRunner(m, n, workers)
		if err != nil {
			t.Fatal(err)
		}
		logits = logits[:n*r.OutputSize()]
		for _, lt := range r.LayerTimes() {
			if lt.Time != 0 || lt.Images != 0 {
				t.Fatalf("workers %d: %+v before TimeLayers", workers, lt)
			}
		}
		r.TimeLayers(true)
		for range 2 {
			if err := r.Run(x, n, logits); err != nil {
				t.Fatal(err)
			}
		}
		r.TimeLayers(false)
		if err := r.Run(x, n, logits); err != nil {
			t.Fatal(err)
		}
		lts := r.LayerTimes()
		if len(lts) != len(m.Layers) {
			t.Fatalf("workers %d: %d layer times for %d layers", workers, len(lts), len(m.Layers))
		}
		for i, lt := range lts {
			if lt.Name != m.Layers[i].LayerName() || lt.Images != 2*n {
				t.Errorf("workers %d layer %d: %+v, want %s and %d images", workers, i, lt, m.Layers[i].LayerName(), 2*n)
			}
			if lt.Kind == "conv2d" && lt.Time <= 0 {
				t.Errorf("workers %d layer %d (%s): no time", workers, i, lt.Name)
			}
		}
		r.TimeLayers(true)
		if lt := r.LayerTimes()[0]; lt.Time != 0 || lt.Images != 0 {
			t.Errorf("workers %d: TimeLayers(true) kept %+v", workers, lt)
		}
		r.Close()
	}
}
