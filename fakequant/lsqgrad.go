package fakequant

// lsqSums32 is the fused float32 LSQ backward of one contiguous run with
// one channel's constants: dx = g where the unclamped code is on the grid,
// else 0 (the straight-through gradient), and the run's contributions to
// the step and zero-point gradients before the gradient factor:
//
//	sumS   = Σ g·(r − x/S) inside, g·(qmin−Z) below, g·(qmax−Z) above
//	sumOut = Σ g over the clipped elements (dZ = −S·sumOut)
//
// with r the rounded code relative to Z. Inside, r − x/S is the paper's
// (x̂ − x)/S; clamp(r) − [inside]·x/S gives all three cases at once, which
// is how the vector loop computes it. One pass replaces the three that
// separate dX, dScale and dZeroPoint ops would make.
func lsqSums32Generic(dx, x, g []float32, c seg32) (sumS, sumOut float64) {
	dx = dx[:len(x)]
	g = g[:len(x)]
	for i, v := range x {
		y := float32(v * c.inv)
		if !(y >= c.lo) {
			y = c.lo
		}
		if y > c.hi {
			y = c.hi
		}
		r := (y + magic32) - magic32
		gi := float64(g[i])
		switch {
		case r < c.rlo:
			dx[i] = 0
			sumS += gi * float64(c.rlo)
			sumOut += gi
		case r > c.rhi:
			dx[i] = 0
			sumS += gi * float64(c.rhi)
			sumOut += gi
		default:
			dx[i] = g[i]
			sumS += gi * float64(r-y)
		}
	}
	return sumS, sumOut
}
