#!/usr/bin/env bash
# Rebuilds heartbeat.bin from heartbeat.S (the built image is committed so `hvisor run` needs no cross
# toolchain). Needs clang-19, lld-19 and llvm-19 (Debian 12 has no GNU loongarch64 toolchain). Linked
# at 0: the code is position independent.
set -euo pipefail
cd "$(dirname "$0")"
clang-19 --target=loongarch64-unknown-none -c -o heartbeat.o heartbeat.S
ld.lld-19 -Ttext=0 -z max-page-size=4096 --build-id=none -o heartbeat.elf heartbeat.o
llvm-objcopy-19 -O binary heartbeat.elf heartbeat.bin
rm -f heartbeat.o
