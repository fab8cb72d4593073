//go:build !amd64

package kernels

// sumBiasFast has vector loops on amd64 only.
func sumBiasFast(db, dy []float32, outer, inner int) bool { return false }

// pool2x2Fast has vector loops on amd64 only.
func pool2x2Fast(st *poolState, x, y []float32, planes, h, w int) bool { return false }
