package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// naiveGemm is the reference: a plain triple loop in float64.
func naiveGemm(c []float32, ldc int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			old := float64(c[i*ldc+j])
			if beta == 0 {
				old = 0
			}
			c[i*ldc+j] = float32(float64(alpha)*s + float64(beta)*old)
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

func TestSgemmHandWorked(t *testing.T) {
	// [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50]; with alpha 2, beta 1 over C=1.
	a := []float32{1, 2, 3, 4}
	b := []float32{5, 6, 7, 8}
	c := []float32{1, 1, 1, 1}
	Sgemm(c, 2, false, false, 2, 2, 2, 2, a, 2, b, 2, 1)
	want := []float32{39, 45, 87, 101}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("C = %v, want %v", c, want)
		}
	}
	// Aᵀ·Bᵀ = [1 3; 2 4]·[5 7; 6 8] = [23 31; 34 46].
	Sgemm(c, 2, true, true, 2, 2, 2, 1, a, 2, b, 2, 0)
	want = []float32{23, 31, 34, 46}
	for i := range want {
		if c[i] != want[i] {
			t.Fatalf("AᵀBᵀ = %v, want %v", c, want)
		}
	}
}

func TestSgemmAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{
		{1, 1, 1}, {3, 5, 7}, {4, 32, 1}, {5, 33, 17}, {20, 576, 25}, {50, 64, 500},
		{64, 10, 500}, {10, 64, 13}, {97, 70, 300}, {7, 3, 600}, {33, 3100, 9}, {2, 1, 5},
	}
	for _, fk := range floatKernels() {
		testSgemmAgainstNaive(t, r, sizes, fk)
	}
}

// floatKernels returns the float GEMM kernel of each variant of the host's
// features (cpufeat.Features.Variants), each once.
func floatKernels() []floatKernel {
	var out []floatKernel
	for _, v := range cpufeat.Host.Variants() {
		if fk := floatKernelFor(v.Features); !slices.Contains(out, fk) {
			out = append(out, fk)
		}
	}
	return out
}

func testSgemmAgainstNaive(t *testing.T, r *rand.Rand, sizes [][3]int, fk floatKernel) {
	g := Gemm{kern: fk}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}} {
					alpha, beta := ab[0], ab[1]
					// Strides larger than the rows need, to catch stride slips.
					lda, ldb, ldc := k+3, n+2, n+1
					if tA {
						lda = m + 3
					}
					if tB {
						ldb = k + 2
					}
					arows, brows := m, k
					if tA {
						arows = k
					}
					if tB {
						brows = n
					}
					a := randSlice(r, arows*lda)
					b := randSlice(r, brows*ldb)
					c := randSlice(r, m*ldc)
					want := append([]float32(nil), c...)
					naiveGemm(want, ldc, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta)
					g.Sgemm(c, ldc, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							got, w := c[i*ldc+j], want[i*ldc+j]
							if math.Abs(float64(got-w)) > 1e-4*math.Sqrt(float64(k))+1e-5 {
								t.Fatalf("%v: m,n,k=%d,%d,%d tA=%v tB=%v alpha=%v beta=%v: C[%d,%d]=%v want %v", fk, m, n, k, tA, tB, alpha, beta, i, j, got, w)
							}
						}
						// Padding between rows must be untouched.
						for j := n; j < ldc && i*ldc+j < len(c); j++ {
							if c[i*ldc+j] != want[i*ldc+j] {
								t.Fatalf("m,n,k=%d,%d,%d: wrote outside C at row %d col %d", m, n, k, i, j)
							}
						}
					}
				}
			}
		}
	}
}

func TestSgemmPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m, k := 50, 300
	w := randSlice(r, m*k)
	for _, fk := range floatKernels() {
		g := Gemm{kern: fk}
		var pa PackedA
		g.PackA(&pa, false, m, k, w, k)
		for _, n := range []int{64, 7, 100} {
			for _, tB := range []bool{false, true} {
				b := randSlice(r, k*n)
				ldb := n
				if tB {
					ldb = k
				}
				c := make([]float32, m*n)
				want := make([]float32, m*n)
				naiveGemm(want, n, false, tB, m, n, k, 1, w, k, b, ldb, 0)
				g.SgemmPacked(c, n, &pa, tB, n, 1, b, ldb, 0)
				for i := range c {
					if math.Abs(float64(c[i]-want[i])) > 1e-3 {
						t.Fatalf("%v: n=%d tB=%v: C[%d]=%v want %v", fk, n, tB, i, c[i], want[i])
					}
				}
			}
		}
	}
}

func TestSgemmShortSlicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Sgemm with a short C did not panic")
		}
	}()
	Sgemm(make([]float32, 3), 2, false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0)
}

func ExampleSgemm() {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	b := []float32{1, 0, 0, 1, 1, 1} // 3×2
	c := make([]float32, 4)
	Sgemm(c, 2, false, false, 2, 2, 3, 1, a, 3, b, 2, 0)
	fmt.Println(c)
	// Output: [4 5 10 11]
}

// LeNet-5's GEMM shapes at batch 64 (M, N, K).
var benchShapes = [][3]int{{20, 36864, 25}, {50, 4096, 500}, {64, 500, 800}, {64, 10, 500}, {50, 64, 500}, {20, 576, 25}}

func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			a := randSlice(r, m*k)
			bb := randSlice(r, k*n)
			c := make([]float32, m*n)
			var g Gemm
			for b.Loop() {
				g.Sgemm(c, n, false, false, m, n, k, 1, a, k, bb, n, 0)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSgemmTransB times the products whose B is packed transposed:
// a convolution's dW = dy·colᵀ per image and fc1's forward x·Wᵀ (M, N, K).
func BenchmarkSgemmTransB(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][3]int{{50, 500, 64}, {20, 25, 576}, {64, 500, 800}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			a := randSlice(r, m*k)
			bb := randSlice(r, n*k)
			c := make([]float32, m*n)
			var g Gemm
			for b.Loop() {
				g.Sgemm(c, n, false, true, m, n, k, 1, a, k, bb, k, 0)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMicrokernel times the host's microkernel alone on panels that
// stay in L1 (kc = 144 and 256: a 16-channel 3×3 convolution's K and one KC
// block): its share of the machine's peak bounds every GEMM above it.
func BenchmarkMicrokernel(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	fk := hostFloatKernel
	if fk == fkGonum {
		b.Skip("no SIMD microkernel on this CPU")
	}
	for _, kc := range []int{144, 256} {
		b.Run(fmt.Sprintf("kc%d", kc), func(b *testing.B) {
			a, bp := randSlice(r, kc*mr), randSlice(r, kc*nr)
			c := make([]float32, mr*nr)
			for b.Loop() {
				kernelFull(fk, kc, a, bp, c, nr, 1, false)
			}
			b.ReportMetric(2*float64(mr*nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("pair/kc%d", kc), func(b *testing.B) {
			a, bp := randSlice(r, 2*kc*mr), randSlice(r, kc*nr)
			c := make([]float32, 2*mr*nr)
			if !kernelPair(fk, kc, a[:kc*mr], a[kc*mr:], bp, c, nr, 1, false, nr) {
				b.Skip("no 8-row kernel on this CPU")
			}
			for b.Loop() {
				kernelPair(fk, kc, a[:kc*mr], a[kc*mr:], bp, c, nr, 1, false, nr)
			}
			b.ReportMetric(2*float64(2*mr*nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestGemmSplitSameBits: gemmSplit (C's columns split over 2 and 3 cores)
// equals one Sgemm call bit for bit, in the transpositions the Linear
// layers use, with widths that split inside and at panel edges, beta 0 and
// 1.
func TestGemmSplitSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := rand.New(rand.NewPCG(41, 42))
	rnd := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	for _, procs := range []int{2, 3} {
		runtime.GOMAXPROCS(procs)
		for _, tc := range []struct {
			m, n, k int
			tA, tB  bool
		}{{64, 500, 800, false, true}, {500, 800, 64, true, false}, {64, 800, 500, false, false}, {37, 161, 1000, false, true}, {64, 33, 2000, false, false}} {
			lda, ldb := tc.k, tc.n
			if tc.tA {
				lda = tc.m
			}
			if tc.tB {
				ldb = tc.k
			}
			a, b := rnd(tc.m*tc.k), rnd(tc.k*tc.n)
			for _, beta := range []float32{0, 1} {
				c0 := rnd(tc.m * tc.n)
				want := append([]float32(nil), c0...)
				var g Gemm
				g.Sgemm(want, tc.n, tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, beta)
				got := append([]float32(nil), c0...)
				var p mulT[float32]
				p.gemmSplit(got, tc.n, tc.tA, tc.tB, tc.m, tc.n, tc.k, a, lda, b, ldb, beta)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%d procs, %+v, beta %v: C[%d] = %v split, %v in one call", procs, tc, beta, i, got[i], want[i])
					}
				}
			}
		}
	}
}
