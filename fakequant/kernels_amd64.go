package fakequant

import (
	"github.com/qatgo/qatgo/internal/cpufeat"
	"github.com/qatgo/qatgo/internal/parallel"
)

// useAVX512 reports whether the assembly loops run (kernels_amd64.s); set
// once at start-up from the CPU (QATGO_CPU can mask it). Both loops give
// the same bits as the scalar ones; they ran at about a quarter of the
// scalar loop's time per element.
var useAVX512 = cpufeat.Host.AVX512

// useAVX2 reports whether fq32's 8-lane loop runs where the 16-lane one
// does not (Zen 3, Intel client cores): the scalar loop was a sixth of a
// vgg-small W8A8 step there.
var useAVX2 = cpufeat.Host.AVX2

//go:noescape
func fq32avx512(dst *float32, mask *bool, src *float32, n int, c *seg32)

//go:noescape
func fq32avx2(dst *float32, mask *bool, src *float32, n int, c *seg32)

//go:noescape
func maskGrad32avx512(dst, grad *float32, mask *bool, n int)

// fq32 fake-quantizes one contiguous run with one channel's constants: 16
// values per AVX-512 step (8 per AVX2 step on CPUs without it), the tail
// (and CPUs without AVX2) by the scalar loop.
func fq32(dst []float32, mask []bool, src []float32, c seg32) {
	w := 0
	switch {
	case useAVX512:
		w = 16
	case useAVX2:
		w = 8
	}
	fq32For(w, dst, mask, src, c)
}

// fq32For is fq32 with the vector loop of width w: 16 (AVX-512), 8 (AVX2)
// or 0 (the scalar loop alone; tests run each the CPU has).
func fq32For(w int, dst []float32, mask []bool, src []float32, c seg32) {
	n := 0
	if w > 0 {
		n = len(src) / w * w
	}
	if n == 0 {
		fq32Generic(dst, mask, src, c)
		return
	}
	dst = dst[:len(src)]
	var mp *bool
	if mask != nil {
		mask = mask[:len(src)]
		mp = &mask[0]
	}
	if w == 16 {
		fq32avx512(&dst[0], mp, &src[0], n, &c)
	} else {
		fq32avx2(&dst[0], mp, &src[0], n, &c)
	}
	if mask != nil {
		fq32Generic(dst[n:], mask[n:], src[n:], c)
		return
	}
	fq32Generic(dst[n:], nil, src[n:], c)
}

// maskGrad32 is dst = g where mask, else 0: the straight-through gradient,
// 16 lanes at a time.
func maskGrad32(dst, g []float32, mask []bool) {
	if k := parallel.Chunks(len(g), parGrain); k > 1 {
		parallel.For(len(g), k, 16, func(_, lo, hi int) { maskGrad32One(dst[lo:hi], g[lo:hi], mask[lo:hi]) })
		return
	}
	maskGrad32One(dst, g, mask)
}

// maskGrad32One is maskGrad32 on the calling goroutine.
func maskGrad32One(dst, g []float32, mask []bool) {
	n := len(g) &^ 15
	if !useAVX512 || n == 0 {
		maskGradGeneric(dst, g, mask)
		return
	}
	dst, mask = dst[:len(g)], mask[:len(g)]
	maskGrad32avx512(&dst[0], &g[0], &mask[0], n)
	maskGradGeneric(dst[n:], g[n:], mask[n:])
}
