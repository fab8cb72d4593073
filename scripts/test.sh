#!/usr/bin/env bash
# The test command of the README and of CI: set up, vet, test. The whole
# suite runs with the SIMD kernels (scripts/env.sh); the packages that have a
# SIMD path are also vetted and tested in the portable build. Skipped tests
# are listed with their reasons at the end of each run (internal/testsum).
# With QATGO_REQUIRE_ONNXRUNTIME=1 (as .ci/run sets) onnxruntime must
# install and its tests must run: a missing runtime fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
go vet ./...
go build -o .cache/testsum ./internal/testsum
go test -json -timeout 20m ./... | .cache/testsum
simd_pkgs=$(grep -rl --include='*.go' 'goexperiment.simd' . | xargs -n1 dirname | sort -u | sed 's#^\./#./#')
echo "portable build (GOEXPERIMENT unset):" $simd_pkgs
GOEXPERIMENT= go vet $simd_pkgs
GOEXPERIMENT= go test -json -timeout 10m $simd_pkgs | .cache/testsum
