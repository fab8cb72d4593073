#!/usr/bin/env bash
# The test command of the README and of CI: set up, vet, test. The whole
# suite runs in the default build (fast kernels chosen at run time); then the
# packages with dispatched kernels run again with each lower CPU level forced
# (QATGO_CPU), in the GOEXPERIMENT=simd build, and cross-compiled for arm64
# (run under qemu-user when it is installed). Skipped tests are listed with
# their reasons at the end of each run (internal/testsum). With
# QATGO_REQUIRE_ONNXRUNTIME=1 (as .ci/run sets) onnxruntime must install and
# its tests must run: a missing runtime fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
go vet ./...
go build -o .cache/testsum ./internal/testsum
go test -json -timeout 20m ./... | .cache/testsum

# Packages whose kernels are chosen at run time (internal/cpufeat users).
dispatch_pkgs=$(grep -rl --include='*.go' 'internal/cpufeat"' . | xargs -n1 dirname | sort -u)
dispatch_pkgs="./internal/cpufeat $dispatch_pkgs"
# The CPU level is read at start-up, which the test cache does not see: -count=1.
for level in avx2 generic; do
  echo "forced CPU level QATGO_CPU=$level:" $dispatch_pkgs
  QATGO_CPU=$level go test -count=1 -timeout 10m $dispatch_pkgs
done
# AMX (Intel Xeon since Sapphire Rapids) changes only the integer runtime's
# GEMM: with it masked, the AVX-512 VNNI kernel runs the whole models.
if grep -qw amx_int8 /proc/cpuinfo 2>/dev/null; then
  echo "forced CPU level QATGO_CPU=noamx: ./intruntime"
  QATGO_CPU=noamx go test -count=1 -timeout 10m ./intruntime
fi
# AVX-VNNI without AVX-512 (Intel client cores) changes only the integer
# runtime's kernels; on a CPU without AVX-VNNI this level is avx2 again.
if grep -qw avx_vnni /proc/cpuinfo 2>/dev/null; then
  echo "forced CPU level QATGO_CPU=avxvnni: ./intruntime"
  QATGO_CPU=avxvnni go test -count=1 -timeout 10m ./intruntime
fi

# The kernels split their work over goroutines (internal/parallel): run
# them under the race detector once (it needs cgo: gcc, which setup.sh
# installs).
if command -v gcc >/dev/null; then
  echo "race detector: ./kernels ./internal/parallel"
  CGO_ENABLED=1 go test -race -count=1 -timeout 15m ./kernels ./internal/parallel
else
  echo "race detector skipped: no C compiler (apt-get install gcc)"
fi

simd_pkgs=$(grep -rl --include='*.go' 'goexperiment.simd' . | xargs -n1 dirname | sort -u)
echo "archsimd build (GOEXPERIMENT=simd):" $simd_pkgs
GOEXPERIMENT=simd go vet $simd_pkgs
GOEXPERIMENT=simd go test -timeout 10m $simd_pkgs

echo "arm64 build:" $dispatch_pkgs
GOARCH=arm64 go vet $dispatch_pkgs
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [ -n "$qemu" ]; then
  GOARCH=arm64 go test -exec "$qemu" -timeout 15m $dispatch_pkgs
else
  echo "arm64 tests skipped: qemu-user is not installed (apt-get install qemu-user)"
fi

# 32-bit targets (386 runs natively on amd64 Linux; arm is the 32-bit
# boards' build): sizes and bounds that assume a 64-bit int fail here.
echo "32-bit builds: GOARCH=386 and GOARCH=arm"
GOARCH=386 go vet ./...
GOARCH=arm GOARM=7 go build ./...
GOARCH=386 go test -timeout 10m ./intmodel ./datasets ./intruntime
