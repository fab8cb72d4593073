package numerics

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkRoundSlice reports ns per element for rounding 4096 float32
// values drawn like typical weights/activations (normal, scale 1) to each
// format.
func BenchmarkRoundSlice(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	dst := make([]float32, len(src))
	for _, f := range Formats() {
		b.Run(f.Name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(src)))
			for b.Loop() {
				RoundSlice(dst, src, f)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/elem")
		})
	}
}
