//go:build !(goexperiment.simd && amd64)

package nn

// minMax is minMaxGeneric in the portable build.
func minMax(x []float32) (lo, hi float32, finite bool) { return minMaxGeneric(x) }
