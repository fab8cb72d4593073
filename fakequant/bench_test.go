package fakequant

import (
	"math/rand/v2"
	"testing"
)

func benchData(n int) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// BenchmarkFakeQuantPerTensor1M fake-quantizes 2^20 N(0,1) values to int8
// affine over [-3, 3] (about 0.3% clipped), writing the mask too.
func BenchmarkFakeQuantPerTensor1M(b *testing.B) {
	const n = 1 << 20
	x := benchData(n)
	dst := make([]float32, n)
	mask := make([]bool, n)
	p, err := QParamsFromRange(QScheme{Bits: 8, Signed: true}, []float32{-3}, []float32{3})
	if err != nil {
		b.Fatal(err)
	}
	shape := []int{n}
	b.SetBytes(4 * n)
	b.ResetTimer()
	for b.Loop() {
		if err := FakeQuantize(dst, mask, x, p, shape); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
}

// BenchmarkFakeQuantPerChannel1M fake-quantizes a 64×16384 weight with int8
// symmetric per-channel params along axis 0, writing the mask too.
func BenchmarkFakeQuantPerChannel1M(b *testing.B) {
	const c, k = 64, 1 << 14
	x := benchData(c * k)
	dst := make([]float32, c*k)
	mask := make([]bool, c*k)
	lo, hi := make([]float32, c), make([]float32, c)
	for i := range lo {
		lo[i], hi[i] = -3-float32(i)/64, 3+float32(i)/64
	}
	p, err := QParamsFromRange(QScheme{Bits: 8, Signed: true, Symmetric: true, Granularity: PerChannel}, lo, hi)
	if err != nil {
		b.Fatal(err)
	}
	shape := []int{c, k}
	b.SetBytes(4 * c * k)
	b.ResetTimer()
	for b.Loop() {
		if err := FakeQuantize(dst, mask, x, p, shape); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(c*k), "ns/elem")
}
