# Build settings shared by the scripts (sourced). GOEXPERIMENT=simd turns on
# the AVX-512 kernels (package kernels, intruntime, numerics); every package
# also builds and passes its tests without it.
export GOEXPERIMENT=simd
