#!/usr/bin/env bash
# The README's main job: LeNet-5 on MNIST, one FP32 epoch, then one epoch of
# quantization-aware training (W8A8: int8 per-channel weights, uint8
# activations), then export as a true-integer model and check it with the
# integer-only runtime. Prints test accuracies; writes runs/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
out=${QATGO_QUICKSTART_DIR:-runs/quickstart}
rm -rf "$out"
go build -o bin/qatgo ./cmd/qatgo
bin/qatgo train --model lenet5 --data mnist --epochs 1 --quant fp32 --out "$out/fp32"
bin/qatgo train --model lenet5 --data mnist --epochs 1 --quant w8a8 --init "$out/fp32" --out "$out/w8a8"
bin/qatgo export --run "$out/w8a8" --out "$out/lenet5-w8a8.qint"
bin/qatgo inspect "$out/lenet5-w8a8.qint"
bin/qatgo eval --model "$out/lenet5-w8a8.qint" --compare-run "$out/w8a8"
