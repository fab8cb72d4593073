package kernels

// The AVX2 F(4×4, 3×3) transforms (winograd48.go, winograd48_amd64.s).

//go:noescape
func wino48InAVX2(v, p *float32, a *wino48InArgs)

//go:noescape
func wino48OutAVX2(y, m *float32, a *wino48OutArgs)

//go:noescape
func wino48DyAVX2(v, p *float32, a *wino48InArgs)

func wino48DyAsm(v, p *float32, a *wino48InArgs) { wino48DyAVX2(v, p, a) }

func wino48InAsm(v, p *float32, a *wino48InArgs) { wino48InAVX2(v, p, a) }

func wino48OutAsm(y, m *float32, a *wino48OutArgs) { wino48OutAVX2(y, m, a) }

//go:noescape
func wino4WeightsPackedAVX2(u *float32, ldu int, w *float32, idx *int32, tap int, lanes *[8]int32, two, panel, k, wstep int, scratch *float32)

// wino4WeightsPacked8 is wino4WeightsPackedAsm on AVX2: eight rows of
// the GEMM's A a pass (two 4-row panels), every column in one call; its
// taps gathered (rows past m masked off: zero kernels). wino4Weights in
// Go cost 140 ns a kernel (6% of resnet20's training step on Zen 3).
func wino4WeightsPacked8(dst []float32, ldu int, w []float32, o, c int, back bool, lo, hi int) {
	m, k := o, c
	if back {
		m, k = c, o
	}
	_, _ = dst[35*ldu+(m+mr-1)/mr*mr*k-1], w[o*c*9-1]
	var idx [8]int32
	var scratch [18 * 8]float32
	wino4LaneKernels(idx[:], c, back)
	for g := lo; g < hi; g++ {
		for m0 := 16 * g; m0 < min(16*g+16, m); m0 += 8 {
			n := min(8, m-m0)
			two := 0
			if n > 4 {
				two = 1
			}
			d := &dst[m0*k]
			if back {
				// input channels m0…, output channel p, turned half round
				wino4WeightsPackedAVX2(d, 4*ldu, &w[m0*9+8], &idx[0], -4, &lanes8[n], two, 16*k, k, 36*c, &scratch[0])
			} else {
				wino4WeightsPackedAVX2(d, 4*ldu, &w[m0*c*9], &idx[0], 4, &lanes8[n], two, 16*k, k, 36, &scratch[0])
			}
		}
	}
}
