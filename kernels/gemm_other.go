//go:build !amd64 && !arm64

package kernels

import "github.com/qatgo/qatgo/internal/cpufeat"

// floatKernelFor: this architecture has no SIMD float kernel yet.
func floatKernelFor(cpufeat.Features) floatKernel { return fkGonum }

// kernelFull is the portable microkernel (never selected here).
func kernelFull(fk floatKernel, kc int, a, b, c []float32, ldc int, alpha float32, acc bool) {
	var tile [mr * nr]float32
	kernelTileGeneric(kc, a, b, &tile)
	storeTile(c, ldc, 1, mr, nr, &tile, alpha, 0, !acc)
}

// kernelTile is the portable microkernel (never selected here).
func kernelTile(fk floatKernel, kc int, a, b []float32, tile *[mr * nr]float32) {
	kernelTileGeneric(kc, a, b, tile)
}
