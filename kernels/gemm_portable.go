//go:build !(goexperiment.simd && amd64)

package kernels

// Microkernel tile of the portable build: small enough that the Go compiler
// keeps a row of the tile in registers.
const (
	mr = 4
	nr = 8
)

// simdEnabled reports whether the AVX-512 microkernel is in use.
const simdEnabled = false

func kernelTile(kc int, a, b []float32, tile *[mr * nr]float32) {
	kernelTileGeneric(kc, a, b, tile)
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
