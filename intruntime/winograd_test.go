package intruntime

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// wgCase is one Winograd geometry: cin input channels of H×W, m outputs,
// padding p, n images, kernels kh×kw (3×3 where 0).
type wgCase struct {
	cin, m, H, W, p, n int
	k                  [2]int
}

func (c wgCase) kh() int { return cmp.Or(c.k[0], 3) }
func (c wgCase) kw() int { return cmp.Or(c.k[1], 3) }

var wgCases = []wgCase{
	{2, 1, 4, 4, 1, 1, [2]int{}},     // one tile row of 2 tiles: a vector mostly empty
	{16, 16, 28, 28, 1, 3, [2]int{}}, // resnet20's stages
	{32, 32, 14, 14, 1, 9, [2]int{}}, // groups of images, the last one short
	{64, 64, 7, 7, 1, 5, [2]int{}},   // twp 4: a vector two tile rows
	{6, 5, 9, 11, 0, 2, [2]int{}},    // unpadded, odd outputs, m not a multiple of 4
	{4, 7, 5, 5, 1, 3, [2]int{}},     // 5×5: th 3, the image's tiles rounded up to a vector
	{8, 12, 1, 20, 1, 2, [2]int{}},   // one output row
	{10, 3, 20, 37, 1, 1, [2]int{}},  // tw 19 → 24, blocks of part of an image
	{128, 8, 8, 8, 1, 2, [2]int{}},   // deep: the GEMM's pairs loop long
	// Larger kernels as 3×3 blocks over virtual channels.
	{20, 50, 12, 12, 0, 3, [2]int{5, 5}}, // LeNet-5's conv2: pairs of images a vector
	{1, 6, 28, 28, 0, 2, [2]int{5, 5}},   // one channel: a pair is two blocks of it
	{2, 5, 13, 11, 3, 2, [2]int{7, 7}},   // nine blocks, padding 3
	{4, 3, 9, 14, 1, 1, [2]int{4, 6}},    // rectangular, padded blocks
	{6, 4, 10, 10, 2, 2, [2]int{3, 5}},
}

// wgInputs returns n images of c×H×W codes (CNHW) and weights, random,
// or at the extremes (codes 0 and 255, weights −128 and 127) where
// extreme: the largest transformed values and products.
func wgInputs(rng *rand.Rand, tc wgCase, extreme bool) ([]uint8, []int8) {
	x := make([]uint8, tc.cin*tc.n*tc.H*tc.W+slack)
	w := make([]int8, tc.m*tc.cin*tc.kh()*tc.kw())
	for i := range x {
		x[i] = uint8(rng.IntN(256))
		if extreme {
			x[i] = []uint8{0, 255}[rng.IntN(2)]
		}
	}
	for i := range w {
		w[i] = int8(rng.IntN(256) - 128)
		if extreme {
			w[i] = []int8{-128, 127, -128, 0}[rng.IntN(4)]
		}
	}
	return x, w
}

// wgRunAll runs plan p with kernels k on the n images of x (CNHW), group
// by group as wgConv does, and returns each (channel, image) plane.
func wgRunAll(p *wgPlan, k *wgKernels, x []uint8, n, H, W int, zx uint8) [][]int32 {
	frames := make([]uint8, p.images*p.frameBytes()+slack)
	fill(frames, zx)
	acc := make([]int32, p.m*p.images*p.plane)
	v, m := make([]uint32, p.vLen()), make([]int32, p.mLen())
	out := make([][]int32, p.m*n)
	for b0 := 0; b0 < n; b0 += p.images {
		nb := min(p.images, n-b0)
		for i := range acc {
			acc[i] = -7 // where the output transform writes nothing
		}
		p.run(k, acc, x[b0*H*W:], n*H*W, H, W, nb, frames, p.images*p.hf*p.wf, v, m, make([]uint32, wgScratch), frameRowsScalar)
		for c := range p.m {
			for i := range nb {
				out[c*n+b0+i] = slices.Clone(acc[(c*p.images+i)*p.plane:][:p.plane])
			}
		}
	}
	return out
}

// TestWinogradExact checks the Go passes against the direct sums, output
// by output (padding the zero point), on random and extreme codes and
// weights: the transformed arithmetic is exact.
func TestWinogradExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, tc := range wgCases {
		for _, er := range [][2]int{{0, 2}, {1, 2}, {0, 4}, {1, 4}} {
			extreme, r := er[0] == 1, er[1]
			x, w := wgInputs(rng, tc, extreme)
			zx := uint8(rng.IntN(256))
			p := planWg(w, tc.m, tc.cin, tc.kh(), tc.kw(), tc.H, tc.W, tc.p, tc.p, r)
			if p == nil {
				if r == 4 && !wgFits(w, tc.m, 4) {
					continue // 64·255·Σ|w| past int32: F(2×2) only
				}
				t.Fatalf("%+v r %d: not planned", tc, r)
			}
			got := wgRunAll(p, &wgGoKernels, x, tc.n, tc.H, tc.W, zx)
			for c := range tc.m {
				for b := range tc.n {
					for y := range p.oh {
						for xx := range p.ow {
							var want int64
							for ci := range tc.cin {
								for ky := range tc.kh() {
									for kx := range tc.kw() {
										iy, ix := y+ky-tc.p, xx+kx-tc.p
										a := int64(zx)
										if iy >= 0 && iy < tc.H && ix >= 0 && ix < tc.W {
											a = int64(x[((ci*tc.n+b)*tc.H+iy)*tc.W+ix])
										}
										want += a * int64(w[((c*tc.cin+ci)*tc.kh()+ky)*tc.kw()+kx])
									}
								}
							}
							if g := got[c*tc.n+b][y*p.ldp+xx]; int64(g) != want {
								t.Fatalf("%+v extreme %v r %d: channel %d image %d (%d, %d) = %d, want %d", tc, extreme, r, c, b, y, xx, g, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestWinogradSameBits checks each CPU variant's Winograd passes against
// the Go ones on every value they write, the dropped positions included.
func TestWinogradSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	ran := false
	for _, vi := range variantImpls() {
		if vi.wg.gemm == nil {
			continue
		}
		ran = true
		for _, tc := range wgCases {
			for _, er := range [][2]int{{0, 2}, {1, 2}, {0, 4}, {1, 4}} {
				extreme, r := er[0] == 1, er[1]
				if r == 4 && vi.wg.input4 == nil {
					continue
				}
				x, w := wgInputs(rng, tc, extreme)
				zx := uint8(rng.IntN(256))
				p := planWg(w, tc.m, tc.cin, tc.kh(), tc.kw(), tc.H, tc.W, tc.p, tc.p, r)
				if p == nil {
					continue // F(4×4) refused (TestWinogradExact checks why)
				}
				want := wgRunAll(p, &wgGoKernels, x, tc.n, tc.H, tc.W, zx)
				got := wgRunAll(p, &vi.wg, x, tc.n, tc.H, tc.W, zx)
				for i := range want {
					if !slices.Equal(got[i], want[i]) {
						t.Fatalf("%+v extreme %v r %d (%s): plane %d differs from the Go passes", tc, extreme, r, vi.name, i)
					}
				}
			}
		}
	}
	if !ran {
		t.Skip("no Winograd kernels on this CPU")
	}
}

// TestWinogradPasses checks the GEMM pass on odd vector counts and
// several panels, and the input pass on a vector whose halves are two
// tile rows, against hand-worked values.
func TestWinogradPasses(t *testing.T) {
	for _, vi := range append([]namedImpl{{"go", impl{wg: wgGoKernels}}}, variantImpls()...) {
		if vi.wg.gemm == nil {
			continue
		}
		t.Run(vi.name, func(t *testing.T) {
			// GEMM: u pair (1, −2) for every (panel, row, j), v pair (t, 3)
			// for tile t: each M value is cp·(t − 6).
			for _, nv := range []int{1, 2, 3, 5} {
				for _, panels := range []int{1, 3} {
					const cp, ldm, ldv = 3, 48, 40
					u := make([]uint32, panels*cp*4)
					for i := range u {
						u[i] = uint32(uint16(1)) | uint32(uint16(0xfffe))<<16
					}
					v := make([]uint32, cp*ldv)
					for j := range cp {
						for tt := range ldv {
							v[j*ldv+tt] = uint32(tt) | 3<<16
						}
					}
					mo := make([]int32, 4*panels*ldm)
					vi.wg.gemm(mo, ldm, u, v, ldv, cp, nv, panels)
					for r := range 4 * panels {
						for tt := range ldm {
							want := int32(cp * (tt - 6))
							if tt >= 8*nv {
								want = 0
							}
							if mo[r*ldm+tt] != want {
								t.Fatalf("gemm nv %d panels %d: M[%d][%d] = %d, want %d", nv, panels, r, tt, mo[r*ldm+tt], want)
							}
						}
					}
				}
			}
			// Input: a frame of 1 at (row 1, column 1) only, the tile at
			// the top-left: Bᵀ d B is the outer product of Bᵀ's column 1
			// (0, 1, −1, 1) with itself.
			const wf, half = 10, 20
			f0 := make([]uint8, 64)
			f1 := make([]uint8, 64)
			f0[wf+1] = 1
			f1[wf+1] = 2
			v := make([]uint32, 16*8)
			vi.wg.input(v, 8, f0, f1, []int32{0}, half, wf)
			col := [4]int32{0, 1, -1, 1}
			for xi := range 16 {
				w := col[xi/4] * col[xi%4]
				if got := v[xi*8]; int32(int16(got)) != w || int32(int16(got>>16)) != 2*w {
					t.Fatalf("input ξ %d: %#x, want pair (%d, %d)", xi, got, w, 2*w)
				}
				for i := 1; i < 8; i++ {
					if v[xi*8+i] != 0 {
						t.Fatalf("input ξ %d tile %d: %#x, want 0", xi, i, v[xi*8+i])
					}
				}
			}
		})
	}
}

// TestWinogradPlans checks the planning: where it applies and pays, the
// tile rows, and the refusal of accumulators that could pass int32.
func TestWinogradPlans(t *testing.T) {
	w := func(m, cin int, v int8) []int8 {
		x := make([]int8, m*cin*9)
		for i := range x {
			x[i] = v
		}
		return x
	}
	for _, c := range []struct {
		m, cin, H, W, p int
		v               int8
		ok              bool
		twp, tpi        int
	}{
		{16, 16, 28, 28, 1, 1, true, 16, 224},
		{32, 32, 14, 14, 1, 1, true, 8, 56},
		{64, 64, 7, 7, 1, 1, true, 4, 16},
		{16, 15, 28, 28, 1, 1, false, 0, 0},   // odd channels
		{8, 8, 3, 3, 1, 1, false, 0, 0},       // 3×3 outputs: 9·9 < 1.5·16·8
		{4, 8, 4, 18, 1, 1, false, 0, 0},      // 4×18: 72 tiles' worth of 32 stored
		{1, 2000, 8, 8, 1, -128, false, 0, 0}, // 4·255·128·9·2000 > 2³¹ − 1
		{1, 1800, 8, 8, 1, -128, true, 4, 16},
	} {
		p := newWgPlan(w(c.m, c.cin, c.v), c.m, c.cin, 3, 3, c.H, c.W, c.p, c.p, false)
		if (p != nil) != c.ok {
			t.Errorf("%+v: planned %v", c, p != nil)
			continue
		}
		if p != nil && (p.r != 2 || p.twp != c.twp || p.tpi != c.tpi) {
			t.Errorf("%+v: r %d twp %d tpi %d", c, p.r, p.twp, p.tpi)
		}
	}
	// With F(4×4) passes: taken where its GEMMs are at most 80% of
	// F(2×2)'s and its 64·255·Σ|w| fits; on 2×2 tiles two images a
	// vector.
	for _, c := range []struct {
		m, cin, H int
		v         int8
		r         int
	}{
		{16, 16, 28, 1, 4},    // 56 tiles × 36 against 224 × 16
		{32, 32, 14, 1, 4},    // 16 × 36 against 56 × 16
		{64, 64, 7, 1, 4},     // pairs: 4 × 36 against 16 × 16
		{8, 128, 28, -128, 2}, // 64·255·128·9·128 > 2³¹ − 1
		{8, 112, 28, -128, 4},
	} {
		if p := newWgPlan(w(c.m, c.cin, c.v), c.m, c.cin, 3, 3, c.H, c.H, 1, 1, true); p == nil || p.r != c.r {
			t.Errorf("%+v: planned %v", c, p != nil)
		} else if p.pairs != (c.H == 7) {
			t.Errorf("%+v: pairs %v", c, p.pairs)
		}
	}
}

// TestWinogradBlockPlans checks the planning of kernels larger than 3×3:
// virtual channels (input channels times blocks), their frames 3 rows or
// columns a block further, and the refusals.
func TestWinogradBlockPlans(t *testing.T) {
	for _, c := range []struct {
		m, cin, kh, kw, H, p int
		r, vc                int // 0: not planned
	}{
		{50, 20, 5, 5, 12, 0, 4, 80}, // LeNet-5's conv2: pairs of images
		{20, 1, 5, 5, 28, 0, 0, 0},   // LeNet-5's conv1: too few channels (wgMinBlockChannels)
		{5, 6, 7, 7, 16, 3, 4, 54},   // nine blocks
		{5, 6, 7, 7, 10, 3, 0, 0},    // 10×10 outputs: 3×3 tiles stored as 4×4, 9 blocks: 49·100 < 1.5·36·16·9
		{4, 5, 5, 5, 12, 0, 4, 20},
		{4, 5, 4, 4, 19, 0, 4, 20},  // 4×4: blocks mostly zero, 1.8x fewer multiplies on whole tiles
		{4, 3, 10, 10, 24, 0, 0, 0}, // past wgMaxKernel
	} {
		w := make([]int8, c.m*c.cin*c.kh*c.kw)
		for i := range w {
			w[i] = int8(i%7 - 3)
		}
		p := newWgPlan(w, c.m, c.cin, c.kh, c.kw, c.H, c.H, c.p, c.p, true)
		if (p != nil) != (c.r != 0) {
			t.Errorf("%+v: planned %v", c, p != nil)
			continue
		}
		if p == nil {
			continue
		}
		if p.r != c.r || p.cin != c.vc || p.inC != c.cin || p.oh != c.H+2*c.p-c.kh+1 {
			t.Errorf("%+v: r %d virtual channels %d input channels %d oh %d", c, p.r, p.cin, p.inC, p.oh)
		}
		// Virtual channel v: block v / cin of channel v % cin.
		const cf = 1000
		bw := ceilDiv(c.kw, 3)
		last := p.cin - 1
		frames := make([]uint8, c.cin*cf+p.hf*p.wf)
		if b, ch := last/c.cin, last%c.cin; len(p.frame(frames, cf, last)) != len(frames)-(ch*cf+3*(b/bw)*p.wf+3*(b%bw)) {
			t.Errorf("%+v: virtual channel %d's frames at %d", c, last, len(frames)-len(p.frame(frames, cf, last)))
		}
	}
}

// TestWinogradSmall3x3 checks that a 3×3 layer whose F(2×2) does not
// pay is not planned by F(4×4) alone (5×5 outputs: F(4×4) would pay on
// paper, two images a vector, but small 3×3 layers keep the direct
// kernels measured against F(2×2)), while a 5×5 kernel may be.
func TestWinogradSmall3x3(t *testing.T) {
	w := make([]int8, 8*8*25)
	for i := range w {
		w[i] = int8(i%5 - 2)
	}
	if p := newWgPlan(w[:8*8*9], 8, 8, 3, 3, 7, 7, 0, 0, true); p != nil {
		t.Errorf("3×3 on 5×5 outputs: planned F(%d×%d)", p.r, p.r)
	}
	if p := newWgPlan(w, 8, 8, 5, 5, 12, 12, 2, 2, true); p == nil || p.r != 4 {
		t.Errorf("5×5 on 12×12 outputs: want F(4×4)")
	}
}

// TestWinogradTileOffsets checks a 7×7 output's layout: 4 tile rows of 4
// tiles, two tile rows a vector, planes of 8-wide rows.
func TestWinogradTileOffsets(t *testing.T) {
	p := planWg(make([]int8, 9*4*4), 4, 4, 3, 3, 7, 7, 1, 1, 2)
	got := fmt.Sprint(p.th, p.twp, p.tpi, p.ldp, p.inHalf, p.outHalf, p.inOffs[:2], p.outOffs[:2])
	// Vector 1 starts at tile row 2: frame row 4 (rows of 10), output row 4.
	if want := "4 4 16 8 20 16 [0 40] [0 32]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
