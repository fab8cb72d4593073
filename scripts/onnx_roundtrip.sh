#!/usr/bin/env bash
# Bring your own model, end to end (README "Import a PyTorch model"):
# a ResNet trained in PyTorch → ONNX → qatgo QAT fine-tuning to W8A8 and
# W4A8 (qatgo train --model-file) → integer-op and QDQ ONNX exports → the
# integer runtime and onnxruntime on the Fashion-MNIST test set.
#
# Needs Debian's python3-torch (apt-get install python3-torch) and
# onnxruntime (bash scripts/setup-onnxruntime.sh).
# Use: bash scripts/onnx_roundtrip.sh [WORK_DIR]
# Env: TRAIN_LIMIT (QAT images per run, default 10000), TEST_LIMIT (test
# images, default 0: all 10,000), CALIB (PTQ calibration images, default
# 2048), EPOCHS (default 1),
# TORCH_STEPS: train the PyTorch ResNet for that many SGD steps on all
# 60,000 training images first (default: use the committed fixture
# testdata/torchref/resnet.onnx, 300 steps on 6,000 images).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/qatgo-roundtrip}
train_limit=${TRAIN_LIMIT:-10000}
epochs=${EPOCHS:-1}
test_limit=${TEST_LIMIT:-0}
calib=${CALIB:-2048}
mkdir -p "$work"
model=testdata/torchref/resnet.onnx
if [ -n "${TORCH_STEPS:-}" ]; then
  /usr/bin/python3 scripts/torch_reference.py "$work/torch" --steps "$TORCH_STEPS" --train-images 60000 --models resnet
  model="$work/torch/resnet.onnx"
fi
export QATGO_ONNXRUNTIME_LIB=${QATGO_ONNXRUNTIME_LIB:-$(bash scripts/setup-onnxruntime.sh | tail -1)}
source scripts/env.sh
go build -o "$work/qatgo" ./cmd/qatgo
q="$work/qatgo"
# Post-training quantization of the imported model, for reference.
$q train --model-file "$model" --data fashion-mnist --quant w8a8 --ptq --calib-images "$calib" \
  --test-limit "$test_limit" --out "$work/ptq-w8a8" --overwrite
for spec in w8a8 w4a8; do
  run="$work/qat-$spec"
  $q train --model-file "$model" --data fashion-mnist --quant "$spec" --epochs "$epochs" --train-limit "$train_limit" \
    --test-limit "$test_limit" --lr 0.001 --out "$run" --overwrite
  $q export --run "$run" --out "$run/model.qint" --onnx "$run/integer.onnx"
  $q export --run "$run" --out "$run/model.qint" --onnx "$run/qdq.onnx" --onnx-format qdq
  for form in integer qdq; do
    $q eval --model "$run/model.qint" --onnx "$run/$form.onnx" --data fashion-mnist --test-limit "$test_limit"
  done
done
