package kernels

import (
	"gonum.org/v1/gonum/blas"
	gblas "gonum.org/v1/gonum/blas/gonum"
)

// On a CPU without the SIMD kernels, Sgemm delegates to gonum's pure-Go Sgemm: its blocked kernel
// (6–14 GFLOP/s on LeNet-5's shapes, and it splits large products over
// GOMAXPROCS goroutines) beat every portable microkernel written here (a 4×4
// register tile reached 3.6 GFLOP/s, since Go does not vectorise it).

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func sgemmGonum(c []float32, ldc int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32) {
	gblas.Implementation{}.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// packAGonum copies op(A) row-major (m×k), so the products that follow need
// no transpose of A and do not depend on the caller's A staying unchanged.
func packAGonum(p *PackedA, tA bool, a []float32, lda int) {
	m, k := p.m, p.k
	p.data = grow(p.data, m*k)
	if !tA {
		for i := 0; i < m; i++ {
			copy(p.data[i*k:(i+1)*k], a[i*lda:i*lda+k])
		}
		return
	}
	for q := 0; q < k; q++ {
		row := a[q*lda : q*lda+m]
		for i, v := range row {
			p.data[i*k+q] = v
		}
	}
}

func sgemmPackedGonum(c []float32, ldc int, p *PackedA, tB bool, n int, alpha float32, b []float32, ldb int, beta float32) {
	gblas.Implementation{}.Sgemm(blas.NoTrans, trans(tB), p.m, n, p.k, alpha, p.data, p.k, b, ldb, beta, c, ldc)
}
