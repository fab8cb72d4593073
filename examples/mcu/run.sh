#!/usr/bin/env bash
# Runs an integer model as generated C: on the host (gcc, strict C99 with the
# sanitizers) and on an emulated Cortex-M4 (arm-none-eabi-gcc, qemu-system-arm
# -M mps2-an386 with semihosting), portable and DSP kernels, and checks that
# every output code equals the Go integer runtime's.
#
#   bash examples/mcu/run.sh MODEL.qint [DIR] [N]
#
# Needs gcc, gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm
# (bash scripts/setup.sh installs them).
set -euo pipefail
model=${1:?usage: run.sh MODEL.qint [DIR] [N]}
dir=${2:-mcu}
n=${3:-100}
mkdir -p "$dir"
model=$(realpath "$model")
dir=$(realpath "$dir")
cd "$(dirname "$0")/../.."
go run ./examples/mcu -model "$model" -dir "$dir" -n "$n"
cd "$dir"

# Host.
gcc -std=c99 -Wall -Wextra -Werror -O2 -fsanitize=address,undefined -fno-sanitize-recover=all \
  -o host model.c main.c
./host codes.bin host.out
cmp host.out expected.bin
echo "host: output codes identical to the Go runtime"

# Cortex-M4 (1 MB flash, 256 KB SRAM), portable C and the DSP kernels.
cflags="-std=c99 -Wall -Wextra -Werror -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -ffunction-sections -fdata-sections"
for path in portable dsp; do
  def=""
  [ $path = dsp ] && def=-DQATGO_ARM_DSP
  arm-none-eabi-gcc $cflags $def -c -o $path.o model.c
  arm-none-eabi-gcc $cflags --specs=rdimon.specs -T mps2.ld -Wl,--gc-sections \
    -Wl,--defsym=__flash_size=1048576 -Wl,--defsym=__ram_size=262144 -o $path.elf startup.c main.c $path.o
  arm-none-eabi-size $path.o
  # -icount shift=0: one instruction per ns; SysTick runs at 25 MHz, so a
  # tick is 40 instructions.
  out=$(qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none -icount shift=0 \
    -semihosting-config enable=on,target=native,arg=$path,arg=codes.bin,arg=$path.out -kernel $path.elf)
  echo "$out"
  cmp $path.out expected.bin
  echo "$out" | awk -v p=$path '/ticks/ { printf "cortex-m4 %s: output codes identical to the Go runtime; %.0f instructions per inference\n", p, $9 * 40 / $2 }'
done
