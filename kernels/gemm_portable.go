//go:build !(goexperiment.simd && amd64)

package kernels

// Microkernel tile of the portable build: small enough that the Go compiler
// keeps a row of the tile in registers.
const (
	mr = 4
	nr = 4
)

// kernelTile keeps the 4×4 tile in 16 local accumulators, which the
// compiler holds in registers (a tile in memory ran at 2.8 GFLOP/s).
func kernelTile(kc int, a, b []float32, tile *[mr * nr]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	a = a[:kc*mr]
	b = b[:kc*nr]
	for len(a) >= mr && len(b) >= nr {
		ap := (*[mr]float32)(a)
		bp := (*[nr]float32)(b)
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		a = a[mr:]
		b = b[nr:]
	}
	*tile = [mr * nr]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
}

// kernelFull computes a full tile into C (row stride ldc): C += alpha·A·B when
// acc, else C = alpha·A·B.
func kernelFull(kc int, a, b, c []float32, ldc int, alpha float32, acc bool) {
	var tile [mr * nr]float32
	kernelTile(kc, a, b, &tile)
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		t := tile[i*nr : i*nr+nr]
		if acc {
			for j := range row {
				row[j] += alpha * t[j]
			}
		} else {
			for j := range row {
				row[j] = alpha * t[j]
			}
		}
	}
}
