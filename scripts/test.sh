#!/usr/bin/env bash
# The test command of the README and of CI: set up, vet, test. The whole
# suite runs with the SIMD kernels (scripts/env.sh); the packages that have a
# SIMD path are also vetted and tested in the portable build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
go vet ./...
go test -timeout 20m ./...
simd_pkgs=$(grep -rl --include='*.go' 'goexperiment.simd' . | xargs -n1 dirname | sort -u | sed 's#^\./#./#')
echo "portable build (GOEXPERIMENT unset):" $simd_pkgs
GOEXPERIMENT= go vet $simd_pkgs
GOEXPERIMENT= go test -timeout 10m $simd_pkgs
