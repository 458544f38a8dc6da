#!/usr/bin/env bash
# Installs the host tools the tests use and caches the real third-party artefacts they run against
# under .fixtures/ (gitignored). Idempotent: a second run only checks. Needs root (apt, mknod) and
# network access to the Debian mirror.
#
#   .fixtures/debian/arm64-6.1/     bookworm linux-image-6.1.0-*-arm64-unsigned (boot/vmlinuz-* raw Image, DTBs, modules)
#   .fixtures/debian/bb-arm64/      bookworm busybox-static arm64 (bin/busybox)
#   .fixtures/debian/rv64/          forky linux-binary + linux-base riscv64 (usr/lib/modules/*/vmlinuz, dtb/)
#   .fixtures/debian/bb-riscv64/    forky busybox-static riscv64 (usr/bin/busybox)
#   .fixtures/debian/rv64-modules/  forky linux-modules riscv64 of that kernel (usr/lib/modules/*/kernel)
#   .fixtures/debian/la64/          forky linux-binary loong64 (usr/lib/modules/*/vmlinuz: an EFI zboot image, zstd)
#   .fixtures/debian/bb-loong64/    forky busybox-static loong64 (usr/bin/busybox)
#   .fixtures/debian/la64-modules/  forky linux-modules loong64 of that kernel (usr/lib/modules/*/kernel: virtio_mmio is a module)
#   .fixtures/debian/arm64-6.12/    trixie linux-image-6.12.*-arm64-unsigned, boot/ and DTBs only (RK3588's DTBs are not in 6.1)
#   .fixtures/vmlinuz-arm64, vmlinuz-arm64-6.12, vmlinuz-riscv64, vmlinuz-loong64, dtbs-arm64, dtbs-arm64-6.12
#                                   stable names (links) for the kernels and DTB folders above: configs and the README use
#                                   these, Debian's version numbers change under them
#   .fixtures/initramfs-{arm64,riscv64,loong64}.cpio.gz   busybox + /init that prints BOOT-OK and powers off
#   .fixtures/initramfs-{arm64,riscv64,loong64}-shell.cpio.gz, zone1-disk.img   debugging setups (arm64 and loong64:
#                                   with the virtio modules, for the nonroot zones' virtio-console shells)
#   .fixtures/qemu-dtb/qemu-virt-*.dtb            QEMU 7.2's own virt device trees (dumpdtb)
#   .fixtures/trixie-gdb/                         a minimal trixie root with gdb-multiarch 16 (LoongArch) and QEMU 10's
#                                                 qemu-system-loongarch64 (boots Debian's loong64 kernel), run via chroot
#   .fixtures/hvisor-tool-examples/qemu-riscv64/  hvisor-tool's example configs (linux2.json, linux2-aia.json)
#   .fixtures/hvisor-tool/                        hvisor-tool's hvisor.ko, ivc.ko (for the arm64 kernel above) and static hvisor
#   .fixtures/hvisor-json-parse/json-parse        hvisor-tool's JSON number reader (tools/json_parse.c) for the host, a test oracle
#
# LoongArch programs are built with clang-19/lld-19 (Debian 12 has no GNU loongarch64 toolchain:
# bookworm has no binutils-loongarch64-linux-gnu, and trixie's needs trixie's libc); QEMU 7.2's
# qemu-system-loongarch64 (qemu-system-misc) runs them bare-metal as the lockstep oracle.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FIX=$ROOT/.fixtures
mkdir -p "$FIX"
say() { printf '\033[36mfixtures:\033[0m %s\n' "$*" >&2; }
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo

# --- host packages ----------------------------------------------------------------------------------
PKGS="gdb-multiarch qemu-system-arm qemu-system-misc qemu-user device-tree-compiler gcc-aarch64-linux-gnu
gcc-riscv64-linux-gnu binutils-aarch64-linux-gnu binutils-riscv64-linux-gnu opensbi u-boot-qemu cpio xz-utils zstd cpp e2fsprogs
debian-archive-keyring debootstrap clang-19 lld-19 llvm-19 libcjson-dev"
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
  say "installing $(echo $missing | tr '\n' ' ')"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# --- Debian guest artefacts, with private apt states (the host's apt lists stay untouched) -------------
KR=/usr/share/keyrings/debian-archive-keyring.gpg
aptopts() { # name arch "archive suite"... -> apt options for a private state
  local d=$FIX/apt-$1 a=$2; shift 2
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial"; : > "$d/sources.list"
  for as in "$@"; do echo "deb [signed-by=$KR] http://deb.debian.org/${as% *} ${as#* } main" >> "$d/sources.list"; done
  echo "-oAPT::Architecture=$a -oAPT::Architectures=$a -oDir::State::Lists=$d/lists -oDir::Cache=$d/cache" \
       "-oDir::Etc::SourceList=$d/sources.list -oDir::Etc::SourceParts=/nonexistent"
}
fetch() { # dest aptopts package...: download and unpack into dest (done once; a stamp marks success)
  local dest=$1 opts=$2; shift 2
  [ -f "$dest/.done" ] && return 0
  rm -rf "$dest"; mkdir -p "$dest"
  ( cd "$dest" && apt-get $opts download "$@" 2>&1 | grep -v 'unsandboxed' >&2 || true
    for p in *.deb; do dpkg -x "$p" .; done; rm -f ./*.deb )
  ls "$dest"/* >/dev/null
  touch "$dest/.done"
}
D=$FIX/debian; mkdir -p "$D"
if [ ! -f "$D/arm64-6.1/.done" ] || [ ! -f "$D/bb-arm64/.done" ]; then
  say "fetching Debian bookworm arm64 kernel and busybox-static"
  o=$(aptopts a64 arm64 "debian bookworm" "debian bookworm-updates" "debian-security bookworm-security")
  apt-get $o update -qq
  K=$(apt-cache $o depends linux-image-arm64 | sed -n 's/.*Depends: \(linux-image-6\.1\.0-[0-9]*-arm64\)$/\1/p' | sort -V | tail -1)
  [ -n "$K" ] || { echo "fixtures: cannot find the bookworm arm64 kernel package" >&2; exit 1; }
  fetch "$D/arm64-6.1" "$o" "$K-unsigned"
  fetch "$D/bb-arm64" "$o" busybox-static
fi
if [ ! -f "$D/rv64/.done" ] || [ ! -f "$D/bb-riscv64/.done" ]; then
  # trixie's riscv64 index was stale on the mirror; forky (testing) works.
  say "fetching Debian forky riscv64 kernel and busybox-static"
  o=$(aptopts rv riscv64 "debian forky")
  apt-get $o update -qq
  V=$(apt-cache $o depends linux-image-riscv64 | sed -n 's/.*Depends: linux-image-\(.*-riscv64\)$/\1/p' | head -1)
  [ -n "$V" ] || { echo "fixtures: cannot find the forky riscv64 kernel package" >&2; exit 1; }
  fetch "$D/rv64" "$o" "linux-binary-$V" "linux-base-$V"
  fetch "$D/bb-riscv64" "$o" busybox-static
fi
if [ ! -f "$D/rv64-modules/.done" ]; then
  # The modules of the kernel above (its version, not the archive's newest: they must match).
  V=$(basename "$(ls -d "$D"/rv64/usr/lib/modules/*-riscv64 | sort -V | tail -1)")
  say "fetching Debian forky riscv64 modules for $V"
  o=$(aptopts rv riscv64 "debian forky")
  apt-get $o update -qq
  fetch "$D/rv64-modules" "$o" "linux-modules-$V"
fi
if [ ! -f "$D/la64/.done" ] || [ ! -f "$D/bb-loong64/.done" ]; then
  # loong64 is a release architecture from forky on (debian-ports, its old home, answers 400).
  say "fetching Debian forky loong64 kernel and busybox-static"
  o=$(aptopts la64 loong64 "debian forky")
  apt-get $o update -qq
  V=$(apt-cache $o depends linux-image-loong64 | sed -n 's/.*Depends: linux-image-\(.*-loong64\)$/\1/p' | head -1)
  [ -n "$V" ] || { echo "fixtures: cannot find the forky loong64 kernel package" >&2; exit 1; }
  fetch "$D/la64" "$o" "linux-binary-$V"
  fetch "$D/bb-loong64" "$o" busybox-static
fi
if [ ! -f "$D/la64-modules/.done" ]; then
  # The modules of the kernel above (its version, not the archive's newest: they must match).
  V=$(basename "$(ls -d "$D"/la64/usr/lib/modules/*-loong64 | sort -V | tail -1)")
  say "fetching Debian forky loong64 modules for $V"
  o=$(aptopts la64 loong64 "debian forky")
  apt-get $o update -qq
  fetch "$D/la64-modules" "$o" "linux-modules-$V"
fi
if [ ! -f "$D/arm64-6.12/.done" ]; then
  say "fetching Debian trixie arm64 kernel (6.12: its DTBs include RK3588's)"
  o=$(aptopts trixie-a64 arm64 "debian trixie" "debian-security trixie-security")
  apt-get $o update -qq
  K=$(apt-cache $o depends linux-image-arm64 | sed -n 's/.*Depends: \(linux-image-6\.12\.[0-9a-z.+]*-arm64\)$/\1/p' | sort -V | tail -1)
  [ -n "$K" ] || { echo "fixtures: cannot find the trixie arm64 kernel package" >&2; exit 1; }
  rm -rf "$D/arm64-6.12"; mkdir -p "$D/arm64-6.12"
  # Only the Image and the DTBs: the modules (hundreds of MB) are not used.
  ( cd "$D/arm64-6.12" && apt-get $o download "$K-unsigned" 2>&1 | grep -v 'unsandboxed' >&2 || true
    dpkg-deb --fsys-tarfile ./*.deb | tar -x --wildcards './boot/vmlinuz-*' './usr/lib/linux-image-*'; rm -f ./*.deb )
  ls "$D"/arm64-6.12/boot/vmlinuz-* >/dev/null
  touch "$D/arm64-6.12/.done"
fi

# --- stable names: the newest kernel and DTB folder of each package, as links relative to .fixtures ----
newest() { ls -d "$@" 2>/dev/null | sort -V | tail -1; }
stable() { # name target: .fixtures/name -> target (relative to .fixtures)
  [ -e "$FIX/$2" ] || { echo "fixtures: $FIX/$2 is missing" >&2; exit 1; }
  [ "$(readlink "$FIX/$1" 2>/dev/null)" = "$2" ] || ln -sfn "$2" "$FIX/$1"
}
rel() { echo "${1#"$FIX"/}"; }
stable vmlinuz-arm64 "$(rel "$(newest "$D"/arm64-6.1/boot/vmlinuz-*)")"
stable dtbs-arm64 "$(rel "$(newest "$D"/arm64-6.1/usr/lib/linux-image-*)")"
stable vmlinuz-arm64-6.12 "$(rel "$(newest "$D"/arm64-6.12/boot/vmlinuz-*)")"
stable dtbs-arm64-6.12 "$(rel "$(newest "$D"/arm64-6.12/usr/lib/linux-image-*)")"
stable vmlinuz-riscv64 "$(rel "$(newest "$D"/rv64/usr/lib/modules/*/vmlinuz)")"
stable vmlinuz-loong64 "$(rel "$(newest "$D"/la64/usr/lib/modules/*/vmlinuz)")"

# --- initramfs images: busybox and an /init ------------------------------------------------------------
#   initramfs-{arm64,riscv64}.cpio.gz         /init prints BOOT-OK and powers off (scripts/initramfs-init.sh)
#   initramfs-{arm64,riscv64}-shell.cpio.gz   /init loads the virtio modules and runs an interactive shell on
#                                             the console (scripts/initramfs-shell.sh): boards/guests/*/debug/
unsigned() { # module.ko out: the module without its appended signature (checking one costs the emulated CPU seconds)
  local f=$1 out=$2 size info sig signer keyid
  size=$(stat -c %s "$f")
  if [ "$(tail -c 28 "$f")" != "~Module signature appended~" ]; then cp "$f" "$out"; return 0; fi
  info=$((size - 28 - 12))   # struct module_signature: algo hash id_type signer_len key_id_len pad[3] be32 sig_len
  read -r signer keyid <<<"$(od -An -tu1 -j $((info + 3)) -N2 "$f")"
  sig=$(od -An -tu1 -j $((info + 8)) -N4 "$f" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
  head -c $((info - signer - keyid - sig)) "$f" > "$out"
}
mkinitramfs() { # busybox out init-script [module.ko...]
  local bb=$1 out=$2 init=$3 t m; shift 3
  # rebuilt when its /init or its recipe (this script: modules) changes
  [ -s "$out" ] && [ "$out" -nt "$ROOT/scripts/$init" ] && [ "$out" -nt "$ROOT/scripts/fixtures.sh" ] && return 0
  say "building $(basename "$out")"
  t=$(mktemp -d); chmod 755 "$t"; mkdir -p "$t/bin" "$t/dev" "$t/proc" "$t/sys"
  cp "$bb" "$t/bin/busybox"; chmod 755 "$t/bin/busybox"; ln -s busybox "$t/bin/sh"
  cp "$ROOT/scripts/$init" "$t/init"; chmod 755 "$t/init"
  mknod -m 600 "$t/dev/console" c 5 1; mknod -m 666 "$t/dev/null" c 1 3; mknod -m 644 "$t/dev/kmsg" c 1 11
  if [ $# -gt 0 ]; then
    mkdir -p "$t/lib/modules"
    for m in "$@"; do
      local ko; ko=$(basename "$m" .xz)   # newer Debian kernels ship xz-compressed modules: BusyBox's insmod takes plain ones
      if [ "$m" != "${m%.xz}" ]; then xz -dc "$m" > "$t/ko.tmp"; unsigned "$t/ko.tmp" "$t/lib/modules/$ko"; rm -f "$t/ko.tmp"
      else unsigned "$m" "$t/lib/modules/$ko"; fi
      echo "$ko" >> "$t/lib/modules/order"
    done
  fi
  ( cd "$t" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --reproducible 2>/dev/null ) \
    | gzip -9n > "$out.tmp" && mv "$out.tmp" "$out"
  rm -rf "$t"
}
mkinitramfs "$D/bb-arm64/bin/busybox" "$FIX/initramfs-arm64.cpio.gz" initramfs-init.sh
mkinitramfs "$D/bb-riscv64/usr/bin/busybox" "$FIX/initramfs-riscv64.cpio.gz" initramfs-init.sh
mkinitramfs "$D/bb-loong64/usr/bin/busybox" "$FIX/initramfs-loong64.cpio.gz" initramfs-init.sh
K=$(ls -d "$D"/arm64-6.1/lib/modules/*/kernel | tail -1)
mkinitramfs "$D/bb-arm64/bin/busybox" "$FIX/initramfs-arm64-shell.cpio.gz" initramfs-shell.sh \
  "$K/drivers/virtio/virtio_mmio.ko" "$K/drivers/block/virtio_blk.ko" "$K/drivers/char/virtio_console.ko"
mkinitramfs "$D/bb-riscv64/usr/bin/busybox" "$FIX/initramfs-riscv64-shell.cpio.gz" initramfs-shell.sh
# loong64: virtio_mmio is a module of Debian's kernel (virtio_console is built in); it has no dependencies.
K=$(ls -d "$D"/la64-modules/usr/lib/modules/*/kernel | tail -1)
mkinitramfs "$D/bb-loong64/usr/bin/busybox" "$FIX/initramfs-loong64-shell.cpio.gz" initramfs-shell.sh \
  "$K/drivers/virtio/virtio_mmio.ko.xz"
# A scratch disk for the nonroot debugging zone's virtio-blk (boards/guests/aarch64/debug/virtio_cfg.json).
[ -f "$FIX/zone1-disk.img" ] || truncate -s 16M "$FIX/zone1-disk.img"

# --- QEMU's own device trees for the virt boards ------------------------------------------------------
Q=$FIX/qemu-dtb; mkdir -p "$Q"
dump() { # file qemu-binary machine-args...
  local f=$Q/$1 bin=$2; shift 2; [ -s "$f" ] && return 0
  "$bin" "$@" -smp 4 -m 1G -nographic -nic none -machine "dumpdtb=$f.raw" >/dev/null 2>&1 || true
  [ -s "$f.raw" ] || { echo "fixtures: $bin did not dump a DTB" >&2; exit 1; }
  dtc -q -I dtb -O dtb -o "$f" "$f.raw" && rm -f "$f.raw"   # compact: QEMU pads its dump to 1 MiB
}
dump qemu-virt-aarch64-gicv3.dtb qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a53
dump qemu-virt-aarch64-gicv2.dtb qemu-system-aarch64 -M virt,gic-version=2 -cpu cortex-a53
dump qemu-virt-riscv64.dtb qemu-system-riscv64 -M virt
dump qemu-virt-loongarch64.dtb qemu-system-loongarch64 -M virt
# --- the real hvisor-tool for zone0 Linux (built from ../shared's copy; its modules match the kernel above) ----
H=$FIX/hvisor-tool
HRECIPE="log6 include"   # change when build-hvisor-tool.sh changes what it makes
if [ "$(cat "$H/.done" 2>/dev/null)" != "$HRECIPE" ]; then
  SHARED=$ROOT/../shared; [ -d "$SHARED/fixtures" ] || SHARED=$ROOT/../../shared   # a worktree sits one level deeper
  [ -d "$SHARED/fixtures/third-party/hvisor-tool" ] || { echo "fixtures: no shared/fixtures/third-party/hvisor-tool beside the clone" >&2; exit 1; }
  KVER=$(basename "$(ls -d "$D"/arm64-6.1/lib/modules/*-arm64 | head -1)")
  say "building hvisor-tool for $KVER"
  rm -rf "$H"; bash "$ROOT/scripts/build-hvisor-tool.sh" "$SHARED/fixtures/third-party/hvisor-tool" "$KVER" "$H"
  [ -s "$H/hvisor.ko" ] && [ -s "$H/hvisor" ] && echo "$HRECIPE" > "$H/.done"
fi
# --- hvisor-tool's example zone configs, the shapes the nonroot-zone tests start (read, then adapted by the test) ---
E=$FIX/hvisor-tool-examples
if [ ! -f "$E/.done" ]; then
  SHARED=$ROOT/../shared; [ -d "$SHARED/fixtures" ] || SHARED=$ROOT/../../shared   # a worktree sits one level deeper
  [ -d "$SHARED/fixtures/third-party/hvisor-tool/examples" ] || { echo "fixtures: no shared/fixtures/third-party/hvisor-tool beside the clone" >&2; exit 1; }
  rm -rf "$E"; mkdir -p "$E"
  cp -r "$SHARED/fixtures/third-party/hvisor-tool/examples/qemu-riscv64" "$E/"
  touch "$E/.done"
fi
# --- hvisor-tool's own number reader (tools/json_parse.c + Debian's cJSON), the oracle of test/config/number-grammar.test.ts ---
J=$FIX/hvisor-json-parse
if [ ! -f "$J/.done" ] || [ "$ROOT/scripts/hvisor-json-parse.c" -nt "$J/.done" ]; then
  SHARED=$ROOT/../shared; [ -d "$SHARED/fixtures" ] || SHARED=$ROOT/../../shared   # a worktree sits one level deeper
  HT=$SHARED/fixtures/third-party/hvisor-tool/tools
  [ -f "$HT/json_parse.c" ] || { echo "fixtures: no shared/fixtures/third-party/hvisor-tool beside the clone" >&2; exit 1; }
  say "building hvisor-tool's json_parse.c for the host"
  rm -rf "$J"; mkdir -p "$J"
  gcc -O1 -w -I/usr/include/cjson -I"$HT/include" -o "$J/json-parse" "$ROOT/scripts/hvisor-json-parse.c" "$HT/json_parse.c" -lcjson
  touch "$J/.done"
fi
# --- a gdb that can debug LoongArch ------------------------------------------------------------------
# Debian 12's gdb-multiarch 13.1 has no LoongArch; trixie's (16.x) has. A minimal trixie root holds it;
# tests run it with chroot (it reaches the stubs on 127.0.0.1, and the ELFs they copy into its /tmp).
G=$FIX/trixie-gdb
if [ ! -f "$G/.done" ]; then
  say "debootstrapping a minimal trixie root with gdb-multiarch (about 3 minutes, 340 MB)"
  rm -rf "$G"
  $SUDO debootstrap --variant=minbase --include=gdb-multiarch trixie "$G" http://deb.debian.org/debian >/dev/null
  $SUDO chroot "$G" gdb-multiarch -nx -batch -ex 'set architecture Loongarch64' >/dev/null
  touch "$G/.done"
fi
# The same root's QEMU (10.x) boots Debian's loong64 kernel, which Debian 12's QEMU 7.2 cannot: the
# oracle and speed reference of the LoongArch Linux zone (bench/loongarch64-linux.ts).
if [ ! -f "$G/.qemu-done" ]; then
  say "installing trixie's qemu-system-misc in $G"
  $SUDO chroot "$G" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-misc' >/dev/null
  $SUDO chroot "$G" qemu-system-loongarch64 -M help | grep -q '^virt' && touch "$G/.qemu-done"
fi

say "ready in $FIX"
