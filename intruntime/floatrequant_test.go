package intruntime

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/qatgo/qatgo/fixedpoint"
)

// TestSetFloat: wherever setFloat vouches for a float kernel, its output
// (the emulations outRelu8 and outSym) equals the fixed-point one on
// every accumulator of the range, checked one by one; and it vouches for
// most channels whose multiplier is not tiny (MobileNetV2's are 2^-10 and
// up). Relu8 channels, and linear ones with Z_Y inside [lo, hi] (the
// symmetric kernel, its sign correction) onto the whole byte range or a
// part.
func TestSetFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	type key struct {
		sym bool
		exp uint
	}
	vouched, tried := map[key]int{}, map[key]int{}
	for trial := range 96 {
		exp := uint(1 + trial%12)
		sym := trial%24 >= 12
		zy, lo, hi := int32(0), int32(0), int32(255)
		if sym {
			zy = int32(1 + rng.IntN(254))
			if trial%3 == 0 {
				lo, hi = int32(rng.IntN(int(zy))), zy+int32(rng.IntN(int(256-zy)))
			}
		}
		var c requantScalars
		if !c.set(int64(rng.IntN(20001)-10000), int32(1<<30+rng.IntN(1<<30)), exp, zy, lo, hi) {
			t.Fatal("set declined")
		}
		c.exactSum = true
		amax := int64(1000 + rng.IntN(150000))
		c.setFloat(amax)
		k := key{sym, exp}
		tried[k]++
		want, out := rqFloat8, c.outRelu8
		if sym {
			want, out = rqFloatSym, c.outSym
		}
		if c.kernel() != want {
			continue
		}
		vouched[k]++
		for a := -amax; a <= amax; a++ {
			want := fixedpoint.Requantize(a+int64(c.bias), c.m0, -int(exp), zy, lo, hi)
			got, ok := out(a)
			if !ok || got != want {
				t.Fatalf("trial %d (m0 %d, exp %d, bias %d, Z_Y %d, [%d, %d], fc %g, fd %g): acc %d gives %d (ok %v), want %d",
					trial, c.m0, exp, c.bias, zy, lo, hi, c.fc, c.fd, a, got, ok, want)
			}
		}
	}
	for k, n := range tried {
		if k.exp <= 8 && vouched[k] < n {
			t.Errorf("%+v: float kernel for %d of %d channels, want all", k, vouched[k], n)
		}
	}
	t.Logf("float kernels vouched for, by kind and exponent: %v of %v", vouched, tried)

	// Power-of-two multipliers: SRDHM's ties break MBQM's symmetry (at
	// every odd x for M0 = 2^30, from x = 2^10 for 2^30 + 2^20), so the
	// symmetric kernel is declined where they fall in range and exact
	// where taken; the relu8 one stays exact either way.
	for _, m0 := range []int32{1 << 30, 3 << 28, 1<<30 + 1<<20, 1<<30 + 1<<22} {
		for _, zy := range []int32{0, 100} {
			var c requantScalars
			if !c.set(-7, m0, 2, zy, 0, 255) {
				t.Fatal("set declined")
			}
			c.exactSum = true
			const amax = 3000
			c.setFloat(amax)
			out := c.outRelu8
			if zy != 0 {
				out = c.outSym
				if sym := int64(1)<<(30-bits.TrailingZeros32(uint32(m0))) > amax+7; (c.float == floatSymmetric) != sym {
					t.Errorf("M0 %#x: symmetric kernel %v, want %v", m0, c.float == floatSymmetric, sym)
				}
			}
			if c.float == floatNone {
				continue
			}
			for a := int64(-amax); a <= amax; a++ {
				want := fixedpoint.Requantize(a-7, m0, -2, zy, 0, 255)
				if got, ok := out(a); !ok || got != want {
					t.Fatalf("M0 %#x, Z_Y %d: acc %d gives %d, want %d", m0, zy, a, got, want)
				}
			}
		}
	}

	// Accumulators past 2^24, where converting them to float32 rounds:
	// operands are vouched for only where they give the exact codes with
	// the conversion to nearest (AVX-512's kernels) and toward −∞ (AVX2's,
	// under MXCSR) alike (here the codes reach 255 below 2^24 and saturate
	// past it); sampled, half of them where the steps are.
	large := 0
	for trial := range 8 {
		var c requantScalars
		if !c.set(int64(rng.IntN(2001)-1000), int32(1<<30+rng.IntN(1<<30)), uint(4+trial%5), 0, 0, 255) {
			t.Fatal("set declined")
		}
		c.exactSum = true
		amax := int64(1<<25 + rng.IntN(1<<24))
		if c.setFloat(amax); c.float != floatRelu8 {
			continue
		}
		large++
		for i := range 100000 {
			a := rng.Int64N(2*amax+1) - amax
			if i%2 == 0 {
				a = rng.Int64N(1<<19) - 1<<18
			}
			want := fixedpoint.Requantize(a+int64(c.bias), c.m0, -int(c.exp), 0, 0, 255)
			got, ok := c.outRelu8(a)
			down, okd := truncFMAConvDown(a+int64(c.bias), c.fc, c.fd)
			if down = min(max(down, 0), 255); !ok || !okd || got != want || down != want {
				t.Fatalf("large trial %d (fc %g, fd %g): acc %d gives %d / %d rounded down, want %d", trial, c.fc, c.fd, a, got, down, want)
			}
		}
	}
	if large == 0 {
		t.Error("no float kernel for accumulators past 2^24")
	}

	// Not exactSum: none.
	var c requantScalars
	c.set(0, 1<<30, 3, 0, 0, 255)
	if c.setFloat(1000); c.float != floatNone || c.kernel() != rqGeneral {
		t.Error("float kernel for a channel whose bias add may saturate")
	}
}

// TestFloatKernels: every assembly kernel of rqFloat8 (rows, flat
// positions, the GEMM's epilogue, the depthwise passes in each window
// mode, one and four channels a pass) and of rqFloatSym (rows, flat
// positions, the GEMM's epilogue) gives the emulation's codes (outRelu8,
// outSym) for accumulators −255…255 (and up to 510 in the GEMM), with
// operands chosen so that rounding to nearest instead of toward −∞ would
// change codes: fc = 1 and fd just below 0 put fc·x + fd within half an
// ulp under x.
func TestFloatKernels(t *testing.T) {
	for _, kind := range []int{rqFloat8, rqFloatSym} {
		testFloatKernels(t, kind)
	}
}

func testFloatKernels(t *testing.T, kind int) {
	rng := rand.New(rand.NewPCG(73, 74))
	const C = 8
	rq := make([]requantScalars, C)
	for m := range rq {
		c := &rq[m]
		zy, lo, hi := int32(0), int32(0), int32(255)
		if kind == rqFloatSym {
			zy = int32(60 + 20*m)
			if m == 5 { // a clamp inside the byte range: the kernels' own
				lo, hi = 10, 200
			}
		}
		if !c.set(0, 1<<30, 1, zy, lo, hi) {
			t.Fatal("set declined")
		}
		c.exactSum, c.float = true, floatRelu8
		if kind == rqFloatSym {
			c.float = floatSymmetric
		}
		switch m % 4 {
		case 0:
			c.fc, c.fd = 1, -0x1p-25 // x − 2^-25: the nearest float is x, the one below x − 2^-24…
		case 1:
			c.bias, c.fc, c.fd = -3, 0.5, 0.25-0x1p-27
		default:
			c.bias = int32(rng.IntN(41) - 20)
			c.fc, c.fd = float32(0.05+rng.Float64()), float32(rng.Float64()*1.8-0.9)
		}
		if c.kernel() != kind {
			t.Fatalf("channel %d: kernel %d, want %d", m, c.kernel(), kind)
		}
	}
	out := func(c *requantScalars, acc int64) (int32, bool) { return c.outRelu8(acc) }
	if kind == rqFloatSym {
		out = func(c *requantScalars, acc int64) (int32, bool) { return c.outSym(acc) }
	}
	// The GEMM's epilogue clamps by the packs only: its channels keep the
	// whole byte range.
	rqG := slices.Clone(rq)
	for m := range rqG {
		rqG[m].lo, rqG[m].hi = 0, 255
	}
	wantIn := func(rq []requantScalars, m int, acc int32) uint8 {
		y, ok := out(&rq[m], int64(acc))
		if !ok {
			t.Fatalf("channel %d: emulation declined acc %d", m, acc)
		}
		return uint8(y)
	}
	want := func(m int, acc int32) uint8 { return wantIn(rq, m, acc) }
	// The operands do make the rounding direction matter.
	if y, _ := out(&rq[0], 1); y != rq[0].zy {
		t.Fatalf("emulation: channel 0 acc 1 gives %d, want %d", y, rq[0].zy)
	}
	if y, _ := out(&rq[0], -1); y != rq[0].zy {
		t.Fatalf("emulation: channel 0 acc −1 gives %d, want %d", y, rq[0].zy)
	}
	tested := false
	for _, vi := range variantImpls() {
		if vi.requantPre != nil && vi.requantFlatCh == nil {
			// AVX2's (requantPreY, requantRowsF8AVX2x and
			// requantRowsFSAVX2x: MXCSR's rounding):
			// each channel's rows of accumulators −255…255, 37 a row in
			// rows 40 apart (the last vector of each overlapping).
			tested = true
			const rows, w, stride = 14, 37, 40
			acc := make([]int32, rows*stride)
			for i := range acc {
				acc[i] = int32(i%511 - 255)
			}
			for m := range C {
				got := make([]uint8, rows*w)
				vi.requantPre(got, w, acc, stride, rows, w, &rq[m])
				for y := range rows {
					for x := range w {
						if a := acc[y*stride+x]; got[y*w+x] != want(m, a) {
							t.Fatalf("%s: requantPre channel %d acc %d gives %d, want %d", vi.name, m, a, got[y*w+x], want(m, a))
						}
					}
				}
			}
			if vi.requantRowsCh != nil {
				// All channels in one call (requantChF8AVX2x,
				// requantChFSAVX2x): channel m's rows from acc[m·ldc:]
				// into rows 41 apart from out[m·outStride:], and a run
				// of channels by the fixed-point kernel between them.
				mixed := slices.Clone(rq)
				mixed[3].float, mixed[4].float = floatNone, floatNone
				const ldc, outRow, outStride = rows*stride + 3, 41, rows*41 + 5
				acc := make([]int32, C*ldc)
				for i := range acc {
					acc[i] = int32((i*7)%511 - 255)
				}
				for _, r := range [][]requantScalars{rq, mixed} {
					got := make([]uint8, C*outStride)
					vi.requantRowsCh(got, outStride, outRow, acc, ldc, rows, w, stride, r, kind)
					for m := range C {
						for y := range rows {
							for x := range w {
								a := acc[m*ldc+y*stride+x]
								y1 := []uint8{want(m, a)}
								if r[m].float == floatNone { // the fixed-point operands
									requantPreRef(y1, 0, []int32{a}, 0, 1, 1, &r[m])
								}
								if g := got[m*outStride+y*outRow+x]; g != y1[0] {
									t.Fatalf("%s: requantRowsCh channel %d (float kernel %d) acc %d gives %d, want %d", vi.name, m, r[m].float, a, g, y1[0])
								}
							}
						}
					}
				}
			}
		}
		if vi.requantRowsCh != nil && vi.requantFlatCh != nil {
			tested = true
			// Rows of 511 accumulators −255…255 per channel (blocks of
			// four vectors and a masked tail).
			const n = 511
			acc := make([]int32, C*n)
			for i := range acc {
				acc[i] = int32(i%n - 255)
			}
			got := make([]uint8, C*n)
			vi.requantRowsCh(got, n, n, acc, n, 1, n, n, rq, kind)
			for i, g := range got {
				if w := want(i/n, acc[i]); g != w {
					t.Fatalf("%s: requantRowsCh channel %d acc %d gives %d, want %d", vi.name, i/n, acc[i], g, w)
				}
			}
			masks := make([]uint16, 32)
			cnt := 0
			for i := range masks {
				masks[i] = uint16(rng.Uint32()) | 1
				cnt += bits.OnesCount16(masks[i])
			}
			acc = make([]int32, C*16*len(masks))
			for i := range acc {
				acc[i] = int32(rng.IntN(511) - 255)
			}
			got = make([]uint8, C*cnt)
			vi.requantFlatCh(got, cnt, acc, 16*len(masks), masks, cnt, rq, kind)
			for m := range C {
				o := got[m*cnt:]
				for b, mask := range masks {
					for l := range 16 {
						if mask>>l&1 == 1 {
							if a := acc[m*16*len(masks)+16*b+l]; o[0] != want(m, a) {
								t.Fatalf("%s: requantFlatCh channel %d acc %d gives %d, want %d", vi.name, m, a, o[0], want(m, a))
							}
							o = o[1:]
						}
					}
				}
			}
		}
		if vi.gemmRequant != nil {
			// K = 4, weights (±1 or 2, 0, 0, 0): accumulator = weight × code.
			w := make([]int8, C*4)
			for m := range C {
				w[4*m] = []int8{1, -1, 2, 1}[m%4]
			}
			a := packWeightsFor(w, C, 4, 255, vi.kern)
			const n = 256 + 64 + 37 // whole tiles and groups, the last one cut
			ng := groupsFor(n)
			bp := make([]byte, ng*a.k4*blockSize)
			for col := range n {
				bp[(col/laneCols)*blockSize+4*(col%laneCols)] = uint8(col)
			}
			got := make([]uint8, C*n)
			if vi.gemmRequant(got, n, a, bp, ng, n, rqG, kind) {
				tested = true
				for i, g := range got {
					m, col := i/n, i%n
					a := int32(w[4*m]) * int32(uint8(col))
					if y := wantIn(rqG, m, a); g != y {
						t.Fatalf("%s: gemmRequant channel %d acc %d gives %d, want %d", vi.name, m, a, g, y)
					}
				}
			}
		}
		if vi.dwPerm != nil && kind == rqFloat8 {
			tested = true
			// The centre tap alone: accumulator = weight × code.
			for _, g := range [][5]int{{7, 7, 1, 1, 1}, {14, 14, 1, 1, 1}, {14, 14, 2, 1, 1}} {
				H, W, st, ph, pw := g[0], g[1], g[2], g[3], g[4]
				oh, ow := (H+2*ph-3)/st+1, (W+2*pw-3)/st+1
				P := oh * ow
				wq := make([]int8, 9*C)
				for m := range C {
					wq[9*m+4] = []int8{1, -1, 1, 1}[m%4]
				}
				def := newDwPermPlan(wq, C, H, W, oh, ow, st, st, ph, pw)
				src := make([]uint8, C*H*W)
				for i := range src {
					src[i] = uint8(rng.IntN(256))
				}
				for _, window := range []int{0, 64, 128} {
					pl := planDwPerm(H, W, oh, ow, st, st, ph, pw, window)
					if pl == nil {
						continue
					}
					pl.wq = def.wq
					wantOut := make([]uint8, C*P)
					for m := range C {
						for y := range oh {
							for x := range ow {
								iy, ix := y*st+1-ph, x*st+1-pw
								wantOut[m*P+y*ow+x] = want(m, int32(wq[9*m+4])*int32(src[m*H*W+iy*W+ix]))
							}
						}
					}
					got := make([]uint8, C*P)
					vi.dwPerm(got, src, pl, 1, H*W, P, rq, rqFloat8, 0)
					if !slices.Equal(got, wantOut) {
						t.Fatalf("%s %v: dwPerm mode %d differs from the emulation", vi.name, g, pl.mode)
					}
					if vi.dwPermQuad == nil {
						continue
					}
					quad := make([]uint8, C*P)
					if !vi.dwPermQuad(quad, src, pl, 1, H*W, P, rq, planKind(rq), 0) {
						t.Fatalf("%s %v: dwPermQuad declined", vi.name, g)
					}
					for m := range C {
						for p := range P {
							if quad[quadIndex(m, p, P)] != wantOut[m*P+p] {
								t.Fatalf("%s %v: dwPermQuad mode %d channel %d position %d differs from the emulation", vi.name, g, pl.mode, m, p)
							}
						}
					}
				}
			}
		}
	}
	if !tested {
		t.Skip("no float kernels on this CPU")
	}
}

// TestFma32Down: the emulation rounds toward −∞ (a product just above, at
// and below a float32) and refuses a sum it cannot vouch for.
func TestFma32Down(t *testing.T) {
	for _, c := range []struct {
		x, c, d, want float32
	}{
		{1, 1, -0x1p-25, 1 - 0x1p-24},
		{1, 1, 0x1p-25, 1},
		{3, 0.5, 0, 1.5},
		{-1, 1, -0x1p-25, -1 - 0x1p-23},
	} {
		got, ok := fma32Down(c.x, c.c, c.d)
		if !ok || got != c.want {
			t.Errorf("fma32Down(%g, %g, %g) = %g (%v), want %g", c.x, c.c, c.d, got, ok, c.want)
		}
	}
	if _, ok := fma32Down(1, 1, 0x1p-100); ok {
		t.Error("vouched for an inexact float64 sum")
	}
}

// The assembly reads fc at byte 36 and fd at byte 92 of 96.
func TestFloatOperandOffsets(t *testing.T) {
	var c requantScalars
	if o1, o2, n := unsafe.Offsetof(c.fc), unsafe.Offsetof(c.fd), unsafe.Sizeof(c); o1 != 36 || o2 != 92 || n != 96 {
		t.Fatalf("fc at %d, fd at %d, size %d: want 36, 92, 96", o1, o2, n)
	}
}

// kindRuns: runs of whole groups, the float twin where every channel of a
// group allows it.
func TestKindRuns(t *testing.T) {
	mk := func(kinds string) []requantScalars {
		rq := make([]requantScalars, len(kinds))
		for i, k := range kinds {
			c := &rq[i]
			c.exactSum = true
			switch k {
			case 'r':
				c.relu8, c.noNeg = true, true
			case 'f':
				c.relu8, c.noNeg, c.float = true, true, floatRelu8
			case 'e':
			case 's':
				c.float = floatSymmetric
			}
		}
		return rq
	}
	type run struct{ m0, m1, k int }
	for _, c := range []struct {
		kinds       string
		kind, group int
		sym         bool
		want        []run
	}{
		{"ffrff", rqRelu8, 1, true, []run{{0, 2, rqFloat8}, {2, 3, rqRelu8}, {3, 5, rqFloat8}}},
		{"ffffrfff", rqRelu8, 4, true, []run{{0, 4, rqFloat8}, {4, 8, rqRelu8}}},
		{"ffff", rqFloat8, 4, true, []run{{0, 4, rqFloat8}}},
		{"sses", rqExact, 1, true, []run{{0, 2, rqFloatSym}, {2, 3, rqExact}, {3, 4, rqFloatSym}}},
		{"sses", rqExact, 1, false, []run{{0, 4, rqExact}}},
		{"ssssse", rqExact, 5, true, []run{{0, 5, rqFloatSym}, {5, 6, rqExact}}},
	} {
		var got []run
		rq := mk(c.kinds)
		kind := planKind(rq)
		if kind&^rqMixed != c.kind {
			t.Errorf("%s: planKind %d, want %d", c.kinds, kind, c.kind)
		}
		kindRuns(rq, kind, c.group, c.sym, func(m0, m1, k int) { got = append(got, run{m0, m1, k}) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%s kind %d group %d: runs %v, want %v", c.kinds, c.kind, c.group, got, c.want)
		}
	}
}
