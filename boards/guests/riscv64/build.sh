#!/usr/bin/env bash
# Rebuilds heartbeat.bin from heartbeat.S (the built image is committed so `hvisor run` needs no cross
# compiler). Needs gcc-riscv64-linux-gnu. Linked at 0: the code is position independent.
set -euo pipefail
cd "$(dirname "$0")"
riscv64-linux-gnu-gcc -march=rv64imac_zicsr -mabi=lp64 -nostdlib -static -Wl,--no-relax -Wl,-Ttext=0 \
  -Wl,--build-id=none -o heartbeat.elf heartbeat.S
riscv64-linux-gnu-objcopy -O binary heartbeat.elf heartbeat.bin
