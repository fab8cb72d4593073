# Build settings shared by the scripts (sourced). Nothing is needed for the
# fast kernels any more: the default build picks them at run time from the
# CPU (internal/cpufeat: AVX-512 VNNI, AVX-512, AVX-VNNI, AVX2+FMA, else
# portable Go; QATGO_CPU=avxvnni, =avx2 or =generic lowers the choice, for
# testing).
# GOEXPERIMENT=simd is optional: it adds the archsimd kernels that still win
# (kernels' im2col/pool/bias loops, numerics' float rounding, the AVX-512BW
# int8 GEMM for CPUs without VNNI); scripts/test.sh tests that build too.
export GOEXPERIMENT="${GOEXPERIMENT-}"
