package kernels

//go:noescape
func stemConvAVX512(y, p, w, b *float32, a *stemArgs)

//go:noescape
func stemGradWAVX512(acc, p, dy *float32, a *stemArgs)

// stemCPU reports whether the stem loops' assembly runs for kernel fk.
func stemCPU(fk floatKernel) bool { return fk == fkAVX512 }

// stemConv sets y (a.o planes of a.h × a.w) to the convolution of the
// padded plane p with w (a.o × 9) plus b (nil: none), after checking the
// bounds.
func stemConv(y, p, w, b []float32, a *stemArgs) {
	_, _, _ = y[a.o*a.h*a.w-1], p[(a.h+2)*a.wp-1], w[a.o*9-1]
	var bp *float32
	if b != nil {
		_ = b[a.o-1]
		bp = &b[0]
	}
	stemConvAVX512(&y[0], &p[0], &w[0], bp, a)
}

// stemGradW sets acc (a.o × 9 × 16) to the lane-wise sums of the weight
// gradient of a.n images (padded planes p, output gradients dy), after
// checking the bounds.
func stemGradW(acc, p, dy []float32, a *stemArgs) {
	_, _ = acc[a.o*9*16-1], p[(a.n-1)*a.pplane+(a.h+2)*a.wp-1]
	_ = dy[(a.n-1)*a.dyImg+a.o*a.h*a.w-1]
	stemGradWAVX512(&acc[0], &p[0], &dy[0], a)
}
