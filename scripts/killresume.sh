#!/usr/bin/env bash
# kill -9 / --resume matrix: for each model and mode, an uninterrupted run
# is the reference; then runs are killed with SIGKILL at chosen points and
# resumed (with --resume) until they finish, and their final model.state
# must be byte-identical to the reference. Prints a Markdown table; exits 1
# if any row differs.
#
#   bash scripts/killresume.sh [lenet5|vgg-small ...]   (default: both)
#   QATGO_BIN=/path/to/qatgo bash scripts/killresume.sh ...  (another build,
#   e.g. an older commit's, instead of building this tree)
#
# Kill points:
#   first-epoch   inside the first epoch, before any checkpoint exists
#   ckpt-write    while checkpoint.qat (model.state for PTQ) is being
#                 written: as soon as its temporary file appears
#   mid-run       inside the second epoch (after the first checkpoint)
#   repeated      first-epoch, then mid-run, then ckpt-write, each resumed
# Small data (train/test limits) keeps a row to seconds; the machine it ran
# on is noted with the table in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
qatgo=${QATGO_BIN:-}
if [ -z "$qatgo" ]; then
  go build -o bin/qatgo ./cmd/qatgo
  qatgo=bin/qatgo
fi
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(lenet5 vgg-small)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

args_for() { # model -> common flags
  case $1 in
    lenet5) echo "--model lenet5 --data mnist --train-limit 1024 --test-limit 256 --batch 64 --epochs 3 --seed 3" ;;
    vgg-small) echo "--model vgg-small --data fashion-mnist --train-limit 256 --test-limit 128 --batch 32 --epochs 3 --seed 3" ;;
  esac
}

mode_flags() { # mode fp32dir
  case $1 in
    fp32) echo "--quant fp32" ;;
    qat) echo "--quant w8a8 --init $2" ;;
    ptq) echo "--quant w8a8 --ptq --calib-images 256 --init $2" ;;
  esac
}

wait_file() { # pid glob: spin until a file matching glob exists or pid ends
  until compgen -G "$2" >/dev/null; do kill -0 "$1" 2>/dev/null || return 1; done
}

# kill_at point dir flags...: start train, SIGKILL it at point, report
# what the directory held when it died.
kill_at() {
  local point=$1 dir=$2
  shift 2
  local target=checkpoint.qat
  [[ " $* " == *" --ptq "* ]] && target=model.state
  if [ -f "$dir/config.json" ]; then
    "$qatgo" train --resume --out "$dir" >/dev/null 2>>"$dir.log" &
  else
    "$qatgo" train "$@" --out "$dir" >/dev/null 2>>"$dir.log" &
  fi
  local pid=$!
  case $point in
    first-epoch) wait_file $pid "$dir/config.json" && sleep 0.3 || true ;;
    ckpt-write) wait_file $pid "$dir/$target.tmp-*" || true ;;
    mid-run) wait_file $pid "$dir/checkpoint.qat" && sleep 0.5 || true ;;
  esac
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  local held=""
  [ -f "$dir/checkpoint.qat" ] && held+="ckpt "
  compgen -G "$dir/*.tmp-*" >/dev/null && held+="tmp "
  [ -f "$dir/result.json" ] && held+="finished-before-kill "
  held=${held% }
  echo "${held:-config}"
}

fail=0
echo "| model | mode | kill point | held at kill | resumes | identical |"
echo "|---|---|---|---|---|---|"
for model in "${models[@]}"; do
  common=$(args_for "$model")
  fp="$work/$model-fp32-init"
  "$qatgo" train $common --epochs 2 --out "$fp" 2>/dev/null >/dev/null
  for mode in fp32 qat ptq; do
    flags="$common $(mode_flags $mode "$fp")"
    ref="$work/$model-$mode-ref"
    "$qatgo" train $flags --out "$ref" 2>/dev/null >/dev/null
    want=$(sha256sum <"$ref/model.state")
    points=(first-epoch ckpt-write mid-run repeated)
    [ $mode = ptq ] && points=(first-epoch ckpt-write)
    for point in "${points[@]}"; do
      dir="$work/$model-$mode-$point"
      held=()
      case $point in
        repeated) for p in first-epoch mid-run ckpt-write; do held+=("$(kill_at $p "$dir" $flags)"); done ;;
        *) held+=("$(kill_at $point "$dir" $flags)") ;;
      esac
      resumes=${#held[@]}
      "$qatgo" train --resume --out "$dir" 2>>"$dir.log" >/dev/null
      got=$(sha256sum <"$dir/model.state")
      same=yes
      if [ "$got" != "$want" ]; then same=NO; fail=1; fi
      echo "| $model | $mode | $point | $(IFS=/; echo "${held[*]}") | $resumes | $same |"
    done
  done
done
exit $fail
