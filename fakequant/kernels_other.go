//go:build !amd64

package fakequant

// fq32 fake-quantizes one contiguous run with one channel's constants.
func fq32(dst []float32, mask []bool, src []float32, c seg32) {
	fq32Generic(dst, mask, src, c)
}

// maskGrad32 is dst = g where mask, else 0.
func maskGrad32(dst, g []float32, mask []bool) { maskGradGeneric(dst, g, mask) }
