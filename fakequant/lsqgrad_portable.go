//go:build !(goexperiment.simd && amd64)

package fakequant

// lsqSums32 is the fused LSQ backward of one run (see lsqSums32Generic).
func lsqSums32(dx, x, g []float32, c seg32) (sumS, sumOut float64) {
	return lsqSums32Generic(dx, x, g, c)
}
