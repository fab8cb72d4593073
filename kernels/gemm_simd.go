//go:build goexperiment.simd && amd64

package kernels

import "github.com/qatgo/qatgo/internal/cpufeat"

// simdEnabled reports whether the archsimd helpers (im2col_simd.go) may
// run: this build has them, and the CPU has AVX-512 (unless QATGO_CPU
// masks it).
var simdEnabled = cpufeat.Host.AVX512
