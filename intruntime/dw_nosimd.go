//go:build !(goexperiment.simd && amd64)

package intruntime

// dwFlat3x3 is dwFlat3x3Scalar (this build has no SIMD kernel).
func dwFlat3x3(acc []int32, frame []uint8, w *[9]int32, Wp int) { dwFlat3x3Scalar(acc, frame, w, Wp) }
