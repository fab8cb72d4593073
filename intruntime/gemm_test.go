package intruntime

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveGEMM is the reference: C[m][n] = Σ_k w[m][k]·x[k][n], written plainly.
func naiveGEMM(w []int8, x []uint8, m, k, n int) []int32 {
	c := make([]int32, m*n)
	for i := range m {
		for j := range n {
			var s int32
			for l := range k {
				s += int32(w[i*k+l]) * int32(x[l*n+j])
			}
			c[i*n+j] = s
		}
	}
	return c
}

// packB packs a row-major k×n matrix into the GEMM's B layout.
func packB(x []uint8, k, n int) []byte {
	k4 := ceilDiv(k, 4)
	b := make([]byte, packedCols(n, k4))
	for l := range k {
		for j := range n {
			b[bIndex(l, j, k4)] = x[l*n+j]
		}
	}
	return b
}

func TestGEMM(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, test := range []struct {
		m, k, n   int
		wlo, whi  int // weight range
		umax      int
		wantSplit bool
	}{
		{1, 1, 1, -128, 127, 255, false}, // one weight: 255·128 fits
		{3, 5, 17, -128, 127, 255, true},
		{20, 25, 100, -128, 127, 255, true},
		{7, 33, 50, -64, 63, 255, false},     // 255·127 ≤ 32767? no: 255·(64+63) = 32385 ≤ 32767 → safe
		{13, 250, 31, -128, 127, 127, false}, // 7-bit codes: 127·256 = 32512 → safe
		{50, 500, 64, -8, 7, 255, false},     // 4-bit weights
		{10, 800, 33, -128, 127, 255, true},
		{11, 9, 16*4*3 + 16*3 + 5, -128, 127, 255, true}, // VNNI: 3 four-group tiles + 4 single groups, 3 panels
		{50, 500, 64 * 8, -128, 127, 255, true},          // conv2-shaped
		{5, 6, 3, -128, -128, 255, true},                 // all −128: worst case for the split
		{23, 301, 40, -70, 70, 255, true},                // trained-like: few weights beyond ±64, a sparse hi
		{10, 64, 20, -66, 66, 255, true},
		{33, 600, 16 * 6, -128, 127, 255, true},  // AMX: 3 row tiles (one partial), 10 chunks (the last partial), a four-group block + 2 single groups
		{16, 256, 16 * 10, -128, 127, 255, true}, // AMX: whole tiles, no padding
		{6, 4, 40, -128, -100, 255, true},        // one k-quad: AVX2's int16 tile is its first quad alone
	} {
		w := make([]int8, test.m*test.k)
		for i := range w {
			w[i] = int8(test.wlo + rng.IntN(test.whi-test.wlo+1))
		}
		x := make([]uint8, test.k*test.n)
		for i := range x {
			x[i] = uint8(rng.IntN(test.umax + 1))
			if rng.IntN(8) == 0 {
				x[i] = uint8(test.umax) // extremes often
			}
		}
		b := packB(x, test.k, test.n)
		for i := len(b) - tileSlack; i < len(b); i++ {
			b[i] = uint8(rng.IntN(256)) // the AMX kernel's over-read: cancelled by zero weights
		}
		ng := groupsFor(test.n)
		ldc := ng * laneCols
		want := naiveGEMM(w, x, test.m, test.k, test.n)
		// Every kernel the CPU can run (split or not).
		for _, vi := range variantImpls() {
			kern := vi.kern
			a := packWeightsFor(w, test.m, test.k, test.umax, kern)
			// Unsafe weights: split for AVX-512BW, int16 for AVX2.
			if split := a.lo != nil || a.w16 != nil; split != (test.wantSplit && kern.pairs()) {
				t.Errorf("%dx%dx%d %v: split = %v, want %v", test.m, test.k, test.n, kern, split, test.wantSplit)
			}
			for name, f := range map[string]func([]int32, int, *packedWeights, []byte, int){"gemm": gemm, "portable": gemmPortable} {
				c := make([]int32, a.mpad*ldc)
				f(c, ldc, a, b, ng)
				for i := range test.m {
					for j := range test.n {
						if c[i*ldc+j] != want[i*test.n+j] {
							t.Fatalf("%s %dx%dx%d (%v): C[%d][%d] = %d, want %d", name, test.m, test.k, test.n, kern, i, j, c[i*ldc+j], want[i*test.n+j])
						}
					}
				}
			}
		}
	}
}

func TestSafeForPairs(t *testing.T) {
	for _, test := range []struct {
		w    []int8
		k    int
		umax int
		want bool
	}{
		{[]int8{127, 1}, 2, 255, true},       // 255·128 = 32640 ≤ 32767
		{[]int8{127, 2}, 2, 255, false},      // 255·129 = 32895 > 32767
		{[]int8{64, 64}, 2, 255, true},       // 255·128 = 32640
		{[]int8{-128, 0, 127}, 3, 255, true}, // pairs (−128, 0) and (127): 32640, 32385
		{[]int8{-128, -1}, 2, 255, false},    // 255·129
		{[]int8{-128, -127}, 2, 127, true},   // 127·255 = 32385
	} {
		if got := safeForPairs(test.w, 1, test.k, test.umax); got != test.want {
			t.Errorf("safeForPairs(%v, umax %d) = %v, want %v", test.w, test.umax, got, test.want)
		}
	}
}

// TestGemmRequant: each CPU level's GEMM with the requantization in its
// epilogue (relu8, and exactSum onto the whole byte range) against gemm
// and requantPre per channel, for panels cut short (m not a multiple of
// 5), columns in whole 64-column tiles, in part and under one, and output
// rows with gaps (chOut past n).
func TestGemmRequant(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	for _, vi := range variantImpls() {
		if vi.gemmRequant == nil {
			continue
		}
		for ci, c := range []struct{ m, k, n int }{{16, 16, 784}, {96, 16, 196}, {23, 24, 64}, {7, 32, 63}, {144, 24, 200}, {5, 4, 1000}, {24, 144, 784}, {13, 96, 130}} {
			kind := rqRelu8
			if ci%4 == 2 {
				kind = rqFloat8
			}
			a := packWeightsFor(randWeights(rng, c.m*c.k, 8), c.m, c.k, 255, vi.kern)
			rq := randomRequants(t, rng, c.m, kind, 12)
			if ci == 0 { // panels of the float kernel among relu8 ones
				mixFloat(t, rng, rq, rqFloat8, 12, false, 5)
			}
			if ci%4 == 3 {
				// The same by the symmetric float kernel.
				kind = rqFloatSym
				for m := range rq {
					rq[m] = randomFloat(t, rng, rqFloatSym, 12, randomFloatSpan, true)
				}
			} else if ci%2 == 1 {
				// A linear output onto the whole byte range (lo 0, hi 255,
				// Z_Y inside): the exactSum kernel with the correction.
				kind = rqExact
				for m := range rq {
					zy := int32(1 + rng.IntN(254))
					if !rq[m].set(int64(rng.IntN(2001)-1000), int32(1<<30+rng.IntN(1<<30)), uint(1+rng.IntN(12)), zy, 0, 255) {
						t.Fatal("set declined")
					}
					rq[m].exactSum = true
					if rq[m].kernel() != rqExact {
						t.Fatalf("kernel %d, want rqExact", rq[m].kernel())
					}
				}
				if ci == 5 { // panels of the symmetric float kernel among them
					mixFloat(t, rng, rq, rqFloatSym, 12, true, 5)
				}
			}
			ng := groupsFor(c.n)
			bp := make([]byte, ng*a.k4*blockSize)
			for i := range bp {
				bp[i] = uint8(rng.IntN(256))
			}
			ldc := ng * laneCols
			chOut := c.n + rng.IntN(9)
			got, want := make([]uint8, c.m*chOut), make([]uint8, c.m*chOut)
			for i := range got {
				got[i], want[i] = 0xEE, 0xEE
			}
			acc := make([]int32, a.mpad*ldc)
			if !vi.gemmRequant(got, chOut, a, bp, ng, c.n, rq, planKind(rq)) {
				if a.kern == kernVNNI {
					t.Fatalf("%s %+v: declined", vi.name, c)
				}
				continue
			}
			gemm(acc, ldc, a, bp, ng)
			for m := range c.m {
				requantPreRef(want[m*chOut:], 0, acc[m*ldc:], 0, 1, c.n, &rq[m])
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s %+v kind %d: gemmRequant differs from gemm + the reference requantization", vi.name, c, kind)
			}
		}
	}
}
