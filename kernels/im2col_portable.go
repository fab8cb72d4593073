//go:build !(goexperiment.simd && amd64)

package kernels

// im2colFast and col2imFast have vector loops in the AVX-512 build only;
// here they decline and the generic loops run.
func im2colFast(col, x []float32, g geom) bool  { return false }
func col2imFast(dx, col []float32, g geom) bool { return false }

// sumBiasFast has a vector loop in the AVX-512 build only.
func sumBiasFast(db, dy []float32, outer, inner int) bool { return false }
