//go:build !(goexperiment.simd && amd64)

package intruntime

// archsimdBuild reports whether this build has the archsimd kernels (only
// GOEXPERIMENT=simd builds on amd64 do).
const archsimdBuild = false

// gemmArchsimd is never selected in this build.
func gemmArchsimd(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	gemmPortable(c, ldc, a, b, ngroups)
}
