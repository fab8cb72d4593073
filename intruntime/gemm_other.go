//go:build !amd64 && !arm64

package intruntime

import "github.com/qatgo/qatgo/internal/cpufeat"

// implFor: this architecture has only the portable kernels.
func implFor(cpufeat.Features) impl { return portableImpl() }

// gemmArch is never reached (weights are packed for kernPortable).
func gemmArch(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	gemmPortable(c, ldc, a, b, ngroups)
}
