//go:build !(goexperiment.simd && amd64)

package numerics

func roundWide(dst, src []float32, shift uint32) { roundWideScalar(dst, src, shift) }

func roundNarrow(dst, src []float32, r *rounder) { roundNarrowScalar(dst, src, r) }
