package intruntime

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// requantRows on one row (each variant the CPU runs) must equal MultiplyByQuantizedMultiplier
// + Z_Y + clamp element by element, including extreme accumulators and
// biases (saturation to int32 before the multiply) and every tail length.
func TestRequantRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 300 {
		n := rng.IntN(70)
		row := make([]int32, n)
		for i := range row {
			switch rng.IntN(6) {
			case 0:
				row[i] = int32(rng.Uint32()) // anywhere
			case 1:
				row[i] = []int32{math.MinInt32, math.MaxInt32, 0, -1, 1}[rng.IntN(5)]
			default:
				row[i] = int32(rng.IntN(200001) - 100000)
			}
		}
		bias := int64(int32(rng.Uint32()) >> rng.IntN(32))
		m0, shift := int32(1<<30+rng.IntN(1<<30)), -rng.IntN(32)
		if trial%7 == 0 {
			m0 = 1 << 30 // exact ties are frequent with M0 = 2^30
		}
		zy := int32(rng.IntN(256))
		lo := int32(rng.IntN(128))
		hi := lo + int32(rng.IntN(int(256-lo)))
		for _, vi := range variantImpls() {
			out := make([]uint8, n+1)
			out[n] = 0xEE
			vi.requantRows(out[:n], 0, row, 0, 1, n, bias, m0, uint(-shift), zy, lo, hi)
			for i, a := range row {
				v := int32(max(min(int64(a)+bias, math.MaxInt32), math.MinInt32))
				want := min(max(MultiplyByQuantizedMultiplier(v, m0, shift)+zy, lo), hi)
				if int32(out[i]) != want {
					t.Fatalf("trial %d (%s): acc %d bias %d m0 %d shift %d: got %d, want %d", trial, vi.name, a, bias, m0, shift, out[i], want)
				}
			}
			if out[n] != 0xEE {
				t.Fatalf("trial %d (%s): wrote past the row", trial, vi.name)
			}
		}
	}
}

// requantRows with strides (a chunk's images, the GEMM's padded columns
// between them) equals one requantRowScalar per image and writes nothing else.
func TestRequantRowsStrided(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct{ count, width, rowStride int }{{1, 0, 0}, {3, 49, 64}, {5, 196, 208}, {2, 17, 17}, {4, 7, 16}} {
		row := make([]int32, c.count*max(c.rowStride, c.width))
		for i := range row {
			row[i] = int32(rng.IntN(400001) - 200000)
		}
		bias, m0, exp := int64(rng.IntN(2001)-1000), int32(1<<30+rng.IntN(1<<30)), uint(rng.IntN(12))
		want := make([]uint8, c.count*c.width)
		for i := range c.count {
			requantRowScalar(want[i*c.width:][:c.width], row[i*c.rowStride:][:c.width], bias, m0, exp, 3, 0, 255)
		}
		for _, vi := range variantImpls() {
			got := make([]uint8, len(want)+1)
			got[len(want)] = 0xEE
			vi.requantRows(got, c.width, row, c.rowStride, c.count, c.width, bias, m0, exp, 3, 0, 255)
			if !slices.Equal(got[:len(want)], want) || got[len(want)] != 0xEE {
				t.Fatalf("%s %+v: differs from requantRowScalar per image", vi.name, c)
			}
		}
	}
}

// requantFlat (where the CPU has it) against requantFlatScalar: random
// masks (empty and full vectors included), extreme accumulators.
func TestRequantFlat(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for trial := range 50 {
		masks := make([]uint16, 1+rng.IntN(9))
		for i := range masks {
			switch rng.IntN(4) {
			case 0:
				masks[i] = 0
			case 1:
				masks[i] = 0xffff
			default:
				masks[i] = uint16(rng.Uint32())
			}
		}
		row := make([]int32, 16*len(masks))
		for i := range row {
			row[i] = int32(rng.IntN(400001) - 200000)
			if rng.IntN(20) == 0 {
				row[i] = []int32{math.MinInt32, math.MaxInt32}[rng.IntN(2)]
			}
		}
		n := 0
		for _, k := range masks {
			n += bits.OnesCount16(k)
		}
		bias, m0, exp := int64(rng.IntN(20001)-10000), int32(1<<30+rng.IntN(1<<30)), uint(rng.IntN(14))
		want := make([]uint8, n+1)
		requantFlatScalar(want, row, masks, bias, m0, exp, 5, 2, 250)
		for _, vi := range variantImpls() {
			if vi.requantFlat == nil {
				continue
			}
			got := make([]uint8, n+1)
			got[n], want[n] = 0xEE, 0xEE
			if !vi.requantFlat(got[:n], row, masks, bias, m0, exp, 5, 2, 250) {
				t.Fatalf("trial %d (%s): declined", trial, vi.name)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d (%s): differs from requantFlatScalar", trial, vi.name)
			}
			if vi.requantFlatPre == nil {
				continue
			}
			// The planned operands, with and without the bias add's clamp
			// (exactSum only where the sums cannot leave int32: the
			// accumulators of this trial's vectors bounded).
			var c requantScalars
			if !c.set(bias, m0, exp, 5, 2, 250) {
				t.Fatalf("trial %d: set declined", trial)
			}
			for _, exact := range []bool{false, true} {
				r, w := row, want
				if exact {
					r, w = make([]int32, len(row)), make([]uint8, n+1)
					for i, v := range row {
						r[i] = max(-1<<20, min(1<<20, v))
					}
					w[n] = 0xEE
					requantFlatScalar(w, r, masks, bias, m0, exp, 5, 2, 250)
				}
				c.exactSum = exact
				got := make([]uint8, n+1)
				got[n] = 0xEE
				vi.requantFlatPre(got[:n], r, masks, n, &c)
				if !slices.Equal(got, w) {
					t.Fatalf("trial %d (%s): requantFlatPre (exactSum %v) differs from requantFlatScalar", trial, vi.name, exact)
				}
			}
		}
	}
}

// TestRequantNoNeg: the planned kernels without the negative-product
// correction (requantScalars.noNeg: exp = 0, or lo ≥ Z_Y as after a fused
// ReLU) and without Z_Y and the upper clamp (relu8: Z_Y = lo = 0, hi =
// 255) against the scalar formula, on accumulators of both signs around
// the rounding boundaries and past 255, and the correction kept where
// lo < Z_Y.
func TestRequantNoNeg(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for trial := range 400 {
		n := 1 + rng.IntN(200) // 64 and more: the relu8 kernel's blocks of four vectors
		row := make([]int32, 16*ceilDiv(n, 16))
		for i := range row {
			row[i] = int32(rng.IntN(1<<21+1) - 1<<20)
			if rng.IntN(4) == 0 {
				row[i] = int32(rng.IntN(65) - 32) // products near 0
			}
		}
		bias, m0, exp := int64(rng.IntN(2001)-1000), int32(1<<30+rng.IntN(1<<30)), uint(rng.IntN(20))
		if trial%5 == 0 {
			exp = 0
		}
		zy := int32(rng.IntN(200))
		lo := zy + int32(rng.IntN(40))
		if trial%3 == 0 {
			lo = int32(rng.IntN(int(zy) + 1)) // lo ≤ Z_Y: the correction kept unless lo = Z_Y or exp = 0
		}
		hi := min(lo+int32(rng.IntN(256)), 255)
		switch trial % 8 {
		case 1, 5:
			zy, lo, hi = 0, 0, 255
		case 3: // relu8's neighbours: the clamp to hi still needed, or Z_Y
			zy, lo, hi = 0, 0, int32(rng.IntN(255))
		case 7:
			zy, lo, hi = 1+int32(rng.IntN(5)), 0, 255
		}
		var c requantScalars
		if !c.set(bias, m0, exp, zy, lo, hi) {
			t.Fatalf("trial %d: set declined", trial)
		}
		if want := exp == 0 || lo >= zy; c.noNeg != want {
			t.Fatalf("trial %d: noNeg %v, want %v", trial, c.noNeg, want)
		}
		if want := zy == 0 && lo == 0 && hi == 255; c.relu8 != want {
			t.Fatalf("trial %d: relu8 %v, want %v", trial, c.relu8, want)
		}
		c.exactSum = true // |acc + bias| < 2^21
		want := make([]uint8, n)
		requantRowsScalar(want, 0, row, 0, 1, n, bias, m0, exp, zy, lo, hi)
		for _, vi := range variantImpls() {
			if vi.requantPre != nil {
				got := make([]uint8, n+1)
				got[n] = 0xEE
				vi.requantPre(got[:n], 0, row, 0, 1, n, &c)
				if !slices.Equal(got[:n], want) || got[n] != 0xEE {
					t.Fatalf("trial %d (%s): requantPre (noNeg %v) differs from the scalar formula", trial, vi.name, c.noNeg)
				}
			}
			if vi.requantFlatPre != nil {
				masks := make([]uint16, len(row)/16)
				for i := range masks {
					masks[i] = uint16(1<<min(16, n-16*i) - 1)
				}
				got := make([]uint8, n+1)
				got[n] = 0xEE
				vi.requantFlatPre(got[:n], row, masks, n, &c)
				if !slices.Equal(got[:n], want) || got[n] != 0xEE {
					t.Fatalf("trial %d (%s): requantFlatPre (noNeg %v) differs from the scalar formula", trial, vi.name, c.noNeg)
				}
			}
		}
	}
}

// BenchmarkRequantPre times the planned row requantization of 4,096
// accumulators (in L1) with each kernel the operands select: the bias
// add's clamp (general), without it (exactSum), without the
// negative-product correction too (exactSum and noNeg), and with neither
// Z_Y nor the clamp to 255 (relu8).
func BenchmarkRequantPre(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	row := make([]int32, 4096)
	for i := range row {
		row[i] = int32(rng.IntN(1<<20) - 1<<19)
	}
	out := make([]uint8, len(row))
	for _, k := range []struct {
		name                   string
		exactSum, noNeg, relu8 bool
	}{{"general", false, false, false}, {"exactSum", true, false, false}, {"noNeg", true, true, false}, {"relu8", true, true, true}} {
		b.Run(k.name, func(b *testing.B) {
			var c requantScalars
			if host.requantPre == nil || !c.set(12, 1<<30+12345, 9, 0, 0, 255) {
				b.Skip("no planned requantization on this CPU")
			}
			c.exactSum, c.noNeg, c.relu8 = k.exactSum, k.noNeg, k.relu8
			for b.Loop() {
				host.requantPre(out, 0, row, 0, 1, len(row), &c)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(len(row)/16), "ns/16values")
		})
	}
}

// randomRequants returns M channels' operands whose kernel() is kind:
// random biases in ±1,000, M0 in [2^30, 2^31), 2^-exp with exp in [1,
// maxExp], and output ranges that need kind's instructions.
func randomRequants(t *testing.T, rng *rand.Rand, M, kind int, maxExp int) []requantScalars {
	t.Helper()
	rq := make([]requantScalars, M)
	for m := range rq {
		if kind == rqFloat8 || kind == rqFloatSym {
			rq[m] = randomFloat(t, rng, kind, maxExp, randomFloatSpan, false)
			continue
		}
		zy, lo, hi := int32(rng.IntN(200)), int32(0), int32(255)
		exp := uint(1 + rng.IntN(maxExp))
		switch kind {
		case rqRelu8:
			zy = 0
		case rqNoNeg:
			lo = zy + int32(rng.IntN(20))
			hi = min(lo+int32(rng.IntN(256)), 255)
		default: // lo < Z_Y and exp > 0: the correction needed
			zy = max(zy, 1)
			lo, hi = 0, min(zy+int32(rng.IntN(100)), 255)
		}
		if !rq[m].set(int64(rng.IntN(2001)-1000), int32(1<<30+rng.IntN(1<<30)), exp, zy, lo, hi) {
			t.Fatalf("set declined")
		}
		rq[m].exactSum = kind != rqGeneral
		if got := rq[m].kernel(); got != kind {
			t.Fatalf("channel %d kernel %d, want %d", m, got, kind)
		}
	}
	return rq
}

// randomFloatSpan bounds the accumulators of randomRequants' rqFloat8
// channels (setFloat's amax): every test's accumulators lie within it.
const randomFloatSpan = 1 << 23

// randomFloat returns the operands of a random channel (exponent up to
// maxExp) whose float kernel kind (rqFloat8: relu8; rqFloatSym: Z_Y
// inside [lo, hi], all of the byte range where full) is exact on
// accumulators within ±amax (setFloat), drawing again where it is not.
func randomFloat(t testing.TB, rng *rand.Rand, kind, maxExp int, amax int64, full bool) requantScalars {
	t.Helper()
	for range 1000 {
		zy, lo, hi := int32(0), int32(0), int32(255)
		if kind == rqFloatSym {
			zy = int32(1 + rng.IntN(254))
			if !full {
				lo, hi = int32(rng.IntN(int(zy))), zy+int32(rng.IntN(int(256-zy)))
			}
		}
		var c requantScalars
		if !c.set(int64(rng.IntN(2001)-1000), int32(1<<30+rng.IntN(1<<30)), uint(1+rng.IntN(maxExp)), zy, lo, hi) {
			t.Fatal("set declined")
		}
		c.exactSum = true
		if c.setFloat(amax); c.kernel() == kind {
			return c
		}
	}
	t.Fatal("no exact float kernel in 1000 draws")
	return requantScalars{}
}

// mixFloat replaces about half of rq's groups of group channels (the
// first always) by channels of float kernel kind fk (randomFloat, the
// byte range whole where full): a layer of the fixed-point kernel whose
// runs of float channels take the float one (kindRuns).
func mixFloat(t *testing.T, rng *rand.Rand, rq []requantScalars, fk, maxExp int, full bool, group int) {
	t.Helper()
	for g := 0; g < len(rq); g += group {
		if g > 0 && rng.IntN(2) == 0 {
			continue
		}
		for m := g; m < min(g+group, len(rq)); m++ {
			rq[m] = randomFloat(t, rng, fk, maxExp, randomFloatSpan, full)
		}
	}
}

// requantPreRef is requantPre by the fixed-point reference
// (requantRowsScalar): the tests' ground truth for every kernel kind.
func requantPreRef(out []uint8, outStride int, row []int32, rowStride, count, width int, c *requantScalars) {
	requantRowsScalar(out, outStride, row, rowStride, count, width, int64(c.bias), c.m0, uint(c.exp), c.zy, c.lo, c.hi)
}

// TestDwPerm: the depthwise 3×3 by byte permutes (dwPerm) against
// dw3x3 on zero-point frames and requantPre per channel and image, for
// strides 1 and 2, padding 0 to 2 (rows and columns apart), planes of 1 to 1,860 codes
// (one window, or windows of two 64-byte loads at any offset, vectors cut
// short where their codes outgrow one), every requantization kernel; the
// bytes around each channel's outputs stay as they were; and the
// four-channel pass writing them quad-interleaved (dwPermQuad).
func TestDwPerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	// H, W, stride, padding (rows, columns)
	geoms := [][5]int{{4, 4, 1, 1, 1}, {7, 7, 1, 1, 1}, {7, 7, 2, 1, 1}, {8, 8, 2, 1, 1}, {8, 8, 1, 1, 1}, {5, 5, 1, 1, 1},
		{3, 3, 1, 1, 1}, {1, 1, 1, 1, 1}, {4, 4, 1, 0, 0}, {2, 9, 1, 1, 1}, {7, 9, 2, 1, 1}, {6, 6, 2, 0, 0}, {1, 64, 2, 1, 1},
		{14, 14, 1, 1, 1}, {14, 14, 2, 1, 1}, {28, 28, 1, 1, 1}, {28, 28, 2, 1, 1}, {30, 62, 1, 1, 1}, {9, 62, 2, 1, 1}, {5, 40, 1, 0, 0},
		{6, 5, 1, 0, 1}, {5, 9, 2, 1, 0}, {4, 6, 1, 2, 2}, {3, 3, 2, 2, 1}}
	tested := false
	for gi, g := range geoms {
		H, W, st, ph, pw := g[0], g[1], g[2], g[3], g[4]
		oh, ow := (H+2*ph-3)/st+1, (W+2*pw-3)/st+1
		P := oh * ow
		for kind := range rqFloatSym + 1 {
			C, images := 1+rng.IntN(8), 1+rng.IntN(5)
			if relu8Kind(kind) {
				C = 4 * (1 + rng.IntN(2)) // whole quads: the four-channel pass runs
			}
			w := make([]int8, 9*C)
			for i := range w {
				w[i] = int8(rng.IntN(256) - 128)
			}
			def := newDwPermPlan(w, C, H, W, oh, ow, st, st, ph, pw)
			if def == nil {
				t.Fatalf("%v: no plan", g)
			}
			// Every mode that plans the geometry.
			plans := []*dwPermPlan{}
			for _, window := range []int{0, 64, 128} {
				if pl := planDwPerm(H, W, oh, ow, st, st, ph, pw, window); pl != nil {
					pl.wq = def.wq
					plans = append(plans, pl)
				}
			}
			rq := randomRequants(t, rng, C, kind, 8)
			if kind == rqRelu8 && gi%3 == 0 {
				mixFloat(t, rng, rq, rqFloat8, 8, false, 4)
			}
			pk := planKind(rq) // rqMixed where runs take the float kernel
			zx := uint8(77)
			if gi%2 == 0 {
				zx = 0 // a ReLU's outputs, as MobileNetV2's depthwise layers read
			}
			chIn, chOut := images*H*W+rng.IntN(5), images*P+rng.IntN(5)
			src := make([]uint8, C*chIn)
			for i := range src {
				src[i] = uint8(rng.IntN(256))
			}
			for _, vi := range variantImpls() {
				if vi.dwPerm == nil {
					continue
				}
				tested = true
				for _, pl := range plans {
					got, want := make([]uint8, C*chOut+1), make([]uint8, C*chOut+1)
					for i := range got {
						got[i], want[i] = 0xEE, 0xEE
					}
					vi.dwPerm(got, src, pl, images, chIn, chOut, rq, pk, zx)
					Hp, Wp := H+2*ph, W+2*pw
					frame := make([]uint8, Hp*Wp+16)
					acc := make([]int32, P)
					for c := range C {
						for b := range images {
							fill(frame, zx)
							frameRowsScalar(frame[ph*Wp+pw:], src[c*chIn+b*H*W:], H, W, Wp, 1, Hp*Wp)
							dw3x3(acc, frame, w[9*c:], oh, ow, Wp, st, st)
							requantPreRef(want[c*chOut+b*P:], P, acc, P, 1, P, &rq[c])
						}
					}
					if !slices.Equal(got, want) {
						t.Fatalf("geometry %d %v (%s): dwPerm mode %d kind %d, %d channels, %d images differs", gi, g, vi.name, pl.mode, kind, C, images)
					}
					// Four channels a pass, quad-interleaved (relu8 only):
					// the same codes at quadIndex, the rest untouched.
					if vi.dwPermQuad == nil {
						continue
					}
					N := images*P + rng.IntN(3)
					quad := make([]uint8, ceilDiv(C, 4)*4*N+1)
					for i := range quad {
						quad[i] = 0xEE
					}
					ok := vi.dwPermQuad(quad, src, pl, images, chIn, N, rq, pk, zx)
					if ok != (C%4 == 0 && relu8Kind(kind)) {
						t.Fatalf("geometry %d %v (%s): dwPermQuad %v with %d channels, kind %d", gi, g, vi.name, ok, C, kind)
					}
					if !ok {
						continue
					}
					wantQ := make([]uint8, len(quad))
					for i := range wantQ {
						wantQ[i] = 0xEE
					}
					for c := range C {
						for p := range images * P {
							wantQ[quadIndex(c, p, N)] = want[c*chOut+p]
						}
					}
					if !slices.Equal(quad, wantQ) {
						t.Fatalf("geometry %d %v (%s): dwPermQuad mode %d, %d channels, %d images differs", gi, g, vi.name, pl.mode, C, images)
					}
				}
			}
		}
	}
	if !tested {
		t.Skip("no dwPerm on this CPU")
	}
	// An output's codes in rows 64 wide span 130 bytes: no window holds them.
	if newDwPermPlan(make([]int8, 9), 1, 3, 64, 3, 64, 1, 1, 1, 1) != nil {
		t.Error("planned rows of 64 codes")
	}
}

// TestRequantChannels: the per-image calls for all channels of a tap
// convolution (requantFlatCh, requantRowsCh) against one requantFlatPre or
// requantPre call per channel, for each kernel the operands select, on
// flat positions under random masks and on rows with a stride; the bytes
// between the channels' outputs stay as they were.
func TestRequantChannels(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for trial := range 200 {
		kind := trial % (rqFloatSym + 1)
		M := 1 + rng.IntN(5)
		rq := randomRequants(t, rng, M, kind, 12)
		switch {
		case kind == rqRelu8 && trial%4 < 2:
			mixFloat(t, rng, rq, rqFloat8, 12, false, 1)
		case kind == rqExact && trial%4 < 2:
			mixFloat(t, rng, rq, rqFloatSym, 12, false, 1)
		}
		kind = planKind(rq) // the float kind where all are, rqMixed where runs are
		nb := 1 + rng.IntN(14)
		ldc := 16*nb + 16*rng.IntN(3)
		acc := make([]int32, M*ldc)
		for i := range acc {
			acc[i] = int32(rng.IntN(1<<21+1) - 1<<20)
		}
		masks := make([]uint16, nb)
		for i := range masks {
			masks[i] = uint16(rng.Uint32())
		}
		masks[0] |= 1 // at least one output
		n := 0
		for _, m := range masks {
			n += bits.OnesCount16(m)
		}
		// Rows: rows of w values rowStride apart within each channel's ldc.
		w := 1 + rng.IntN(min(200, ldc)) // rows of 64 and more: the relu8 kernel's blocks of four vectors
		rowStride := w + rng.IntN(8)
		rows := max(1, min(ldc/rowStride, 1+rng.IntN(4)))
		for _, vi := range variantImpls() {
			if vi.requantFlatCh == nil || vi.requantRowsCh == nil {
				continue
			}
			outStride := n + rng.IntN(9)
			got, want := make([]uint8, M*outStride+1), make([]uint8, M*outStride+1)
			for i := range got {
				got[i], want[i] = 0xEE, 0xEE
			}
			vi.requantFlatCh(got, outStride, acc, ldc, masks, n, rq, kind)
			for m := range M {
				o := want[m*outStride:][:n]
				for b, mask := range masks {
					for l := range 16 {
						if mask>>l&1 == 1 {
							requantPreRef(o, 1, acc[m*ldc+16*b+l:], 1, 1, 1, &rq[m])
							o = o[1:]
						}
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d (%s): requantFlatCh (kind %d, %d channels) differs from the reference", trial, vi.name, kind, M)
			}
			outRow := w + rng.IntN(3)
			outStride = rows*outRow + rng.IntN(9)
			got, want = make([]uint8, M*outStride+1), make([]uint8, M*outStride+1)
			for i := range got {
				got[i], want[i] = 0xEE, 0xEE
			}
			vi.requantRowsCh(got, outStride, outRow, acc, ldc, rows, w, rowStride, rq, kind)
			for m := range M {
				requantPreRef(want[m*outStride:], outRow, acc[m*ldc:], rowStride, rows, w, &rq[m])
			}
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d (%s): requantRowsCh (kind %d, %d channels, %d rows of %d) differs from the reference", trial, vi.name, kind, M, rows, w)
			}
		}
	}
}
