#!/usr/bin/env bash
# Installs the ONNX Runtime shared library that package onnx's tests use to
# run exported models, into .cache/onnxruntime (gitignored), and prints the
# path of libonnxruntime.so. Idempotent: does nothing if it is already there.
#
# The library comes from the npm package onnxruntime-node, which ships the
# native CPU library inside the package (its postinstall step, which would
# download GPU binaries, is skipped). github.com/yalue/onnxruntime_go v1.27.0
# is built against the C API version 24 (ONNX Runtime 1.24); 1.30.0 serves
# that API version too.
#
# Use: bash scripts/setup-onnxruntime.sh
#      QATGO_ONNXRUNTIME_LIB=$(bash scripts/setup-onnxruntime.sh | tail -1) go test ./onnx/
# (the tests also find the default path by themselves).
set -euo pipefail
cd "$(dirname "$0")/.."

version=${ORT_NODE_VERSION:-1.30.0}
dir=.cache/onnxruntime

find_lib() {
  ls "$dir"/node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime.so* 2>/dev/null | head -n1
}

installed_version() {
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dir/node_modules/onnxruntime-node/package.json" 2>/dev/null | head -n1
}

if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
  echo "setup-onnxruntime: only linux/x86_64 is set up by this script" >&2
  exit 1
fi
if [ -z "$(find_lib)" ] || [ "$(installed_version)" != "$version" ]; then
  command -v npm >/dev/null || { echo "setup-onnxruntime: npm not found (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$dir"
  echo "setup-onnxruntime: installing onnxruntime-node@$version into $dir" >&2
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$dir" --no-audit --no-fund --silent "onnxruntime-node@$version" >&2
fi
found=$(find_lib)
if [ -z "$found" ]; then
  echo "setup-onnxruntime: libonnxruntime.so not found under $dir after installing" >&2
  exit 1
fi
realpath "$found"
