package kernels

import "github.com/qatgo/qatgo/internal/cpufeat"

// Gemm holds the scratch of a float32 matrix multiply (packing buffers of
// the SIMD kernels), so that repeated calls do not allocate. The zero value
// is ready to use and runs the fastest kernel of the CPU
// (internal/cpufeat). A Gemm is not safe for concurrent use.
type Gemm struct {
	gemmScratch
	kern floatKernel // fkHost: the host's
}

// floatKernel names a float32 GEMM implementation.
type floatKernel uint8

const (
	fkHost   floatKernel = iota // the zero value: whatever the host selects
	fkGonum                     // gonum's pure-Go Sgemm (any CPU)
	fkAVX2                      // packed, Go assembly 4×32 microkernel on ymm (AVX2 + FMA)
	fkAVX512                    // packed, Go assembly 4×32 microkernel on zmm, 16×16 transposes
	fkNEON                      // packed, Go assembly 4×32 microkernel on arm64 NEON
)

func (k floatKernel) String() string {
	return [...]string{"host", "gonum", "avx2", "avx512", "neon"}[k]
}

// hostFloatKernel is the kernel of this CPU; set once at start-up.
var hostFloatKernel = floatKernelFor(cpufeat.Host)

// kernel returns the kernel g runs.
func (g *Gemm) kernel() floatKernel {
	if g.kern == fkHost {
		return hostFloatKernel
	}
	return g.kern
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, where
// op(A) is m×k (A itself k×m when tA), op(B) is k×n (B itself n×k when tB) and
// C is m×n with row stride ldc. It is the package-level form of Gemm.Sgemm and
// allocates its scratch.
func Sgemm(c []float32, ldc int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32) {
	var g Gemm
	g.Sgemm(c, ldc, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta)
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C; see the package function.
// It panics if a slice is too short for the sizes and strides given: that is
// a programmer error on a hot path.
func (g *Gemm) Sgemm(c []float32, ldc int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32) {
	if m <= 0 || n <= 0 {
		return
	}
	checkMat("C", c, m, n, ldc)
	if tA {
		checkMat("A", a, k, m, lda)
	} else {
		checkMat("A", a, m, k, lda)
	}
	if tB {
		checkMat("B", b, n, k, ldb)
	} else {
		checkMat("B", b, k, n, ldb)
	}
	if k <= 0 || alpha == 0 {
		scaleC(c, ldc, 1, m, n, beta)
		return
	}
	g.sgemm(c, ldc, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta)
}

func checkMat(name string, s []float32, rows, cols, ld int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if ld < cols || len(s) < (rows-1)*ld+cols {
		panic("kernels: Sgemm: matrix " + name + " too short for its size and stride")
	}
}

// scaleC sets C = beta·C over an m×n matrix with strides (rs, cs); beta = 0
// clears C so that NaNs in it do not survive.
func scaleC(c []float32, rs, cs, m, n int, beta float32) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			p := &c[i*rs+j*cs]
			if beta == 0 {
				*p = 0
			} else {
				*p *= beta
			}
		}
	}
}

// PackedA is op(A) prepared once for products that reuse one A against many
// B (a convolution's weights against every image): packed into microkernel
// panels for the SIMD kernels, copied row-major for gonum. It holds its own
// copy, so A may change after PackA.
type PackedA struct {
	m, k int
	kern floatKernel // the kernel it is packed for
	data []float32
}

// PackA packs op(A) (m×k; A is k×m when tA) into p, reusing p's storage.
func (g *Gemm) PackA(p *PackedA, tA bool, m, k int, a []float32, lda int) {
	if tA {
		checkMat("A", a, k, m, lda)
	} else {
		checkMat("A", a, m, k, lda)
	}
	p.m, p.k = m, k
	if m <= 0 || k <= 0 {
		p.data = p.data[:0]
		return
	}
	g.packA(p, tA, a, lda)
}

// SgemmPacked computes C = alpha·A·op(B) + beta·C with A packed by PackA.
func (g *Gemm) SgemmPacked(c []float32, ldc int, p *PackedA, tB bool, n int, alpha float32, b []float32, ldb int, beta float32) {
	m, k := p.m, p.k
	if m <= 0 || n <= 0 {
		return
	}
	checkMat("C", c, m, n, ldc)
	if tB {
		checkMat("B", b, n, k, ldb)
	} else {
		checkMat("B", b, k, n, ldb)
	}
	if k <= 0 || alpha == 0 {
		scaleC(c, ldc, 1, m, n, beta)
		return
	}
	g.sgemmPacked(c, ldc, p, tB, n, alpha, b, ldb, beta)
}
