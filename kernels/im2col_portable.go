//go:build !(goexperiment.simd && amd64)

package kernels

// vecRowOps has vector loops in the AVX-512 build only; here rowOps uses
// plain ones.
func vecRowOps() (copyRow, addRow func(d, s []float32), ok bool) { return nil, nil, false }
