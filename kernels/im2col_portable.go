//go:build !(goexperiment.simd && amd64)

package kernels

// vecRowOps has vector loops in the AVX-512 build only; here rowOps uses
// plain ones.
func vecRowOps() (copyRow, addRow func(d, s []float32), ok bool) { return nil, nil, false }

// sumBiasFast has a vector loop in the AVX-512 build only.
func sumBiasFast(db, dy []float32, outer, inner int) bool { return false }

// pool2x2Fast has vector loops in the AVX-512 build only.
func pool2x2Fast(st *poolState, x, y []float32, planes, h, w int) bool { return false }
