#!/usr/bin/env bash
# Builds the real hvisor-tool (test input only, never part of the project) for zone0 Linux on arm64:
#   OUT/hvisor.ko, OUT/ivc.ko   kernel modules for Debian bookworm's linux-image-KVER (vermagic = the booted kernel's)
#   OUT/hvisor                  the static command-line tool and virtio daemon
#   OUT/include/                its ABI headers (hvisor.h, zone_config.h)
# Usage: build-hvisor-tool.sh SRC KVER OUT   (SRC: syswonder/hvisor-tool as published, e.g. ../shared/fixtures/third-party/hvisor-tool)
# The recipe of shared/fixtures/scripts/build-hvisor-tool.sh, plus cJSON (a git submodule of hvisor-tool that the
# shared copy lacks) from Debian's cjson source package. Needs root (apt) and the Debian mirror.
set -euo pipefail
SRC=$(cd "${1:?hvisor-tool source}" && pwd); KVER=${2:?kernel version, e.g. 6.1.0-57-arm64}; OUT=${3:?output folder}
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
KR=/usr/share/keyrings/debian-archive-keyring.gpg

need=""; for p in linux-kbuild-6.1 gcc-aarch64-linux-gnu linux-libc-dev-arm64-cross libc6-dev-arm64-cross make; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"; done
[ -z "$need" ] || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null; }

t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
private() { # dir "deb line"... -> apt options for a private state
  local d=$t/$1; shift; mkdir -p "$d/lists/partial" "$d/cache/archives/partial"; printf '%s\n' "$@" > "$d/sources.list"
  echo "-oDir::State::Lists=$d/lists -oDir::Cache=$d/cache -oDir::Etc::SourceList=$d/sources.list -oDir::Etc::SourceParts=/nonexistent"
}
if [ ! -d "/usr/src/linux-headers-$KVER" ]; then    # the arm64 headers, unpacked (not installed: they are another arch)
  o="-oAPT::Architecture=arm64 -oAPT::Architectures=arm64 $(private h \
    "deb [signed-by=$KR] http://deb.debian.org/debian bookworm main" \
    "deb [signed-by=$KR] http://deb.debian.org/debian bookworm-updates main" \
    "deb [signed-by=$KR] http://deb.debian.org/debian-security bookworm-security main")"
  apt-get $o update -qq
  common=$(apt-cache $o depends "linux-headers-$KVER" | sed -n 's/.*Depends: \(linux-headers-.*-common\)$/\1/p' | head -1)
  ( mkdir -p "$t/debs" && cd "$t/debs" && apt-get $o download "linux-headers-$KVER" "$common" 2>&1 | grep -v unsandboxed >&2 || true
    for p in ./*.deb; do dpkg -x "$p" "$t/tree"; done )
  $SUDO cp -a "$t"/tree/usr/src/linux-headers-* /usr/src/
fi

b=$t/build; cp -a "$SRC"/. "$b"; chmod -R u+w "$b"
if [ ! -f "$b/cJSON/cJSON.c" ]; then
  o=$(private c "deb-src [signed-by=$KR] http://deb.debian.org/debian bookworm main")
  apt-get $o update -qq 2>&1 | grep -v unsandboxed >&2 || true
  ( mkdir -p "$t/cjson" && cd "$t/cjson" && apt-get $o source --download-only cjson 2>&1 | grep -v unsandboxed >/dev/null || true )
  mkdir -p "$b/cJSON"; tar -xzf "$t"/cjson/cjson_*.orig.tar.gz -C "$b/cJSON" --strip-components=1
fi
make -s -C "/usr/src/linux-headers-$KVER" M="$b/driver" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
  DEB_BUILD_ARCH=amd64 DEB_HOST_ARCH=arm64 DEB_HOST_GNU_TYPE=aarch64-linux-gnu modules >"$t/log" 2>&1 || { cat "$t/log" >&2; exit 1; }
# LOG is the syslog level the tool logs up to (tools/log.c): 6 = LOG_INFO, where the daemon names its console's pty.
# Its compiler warnings are not ours to read.
make -s -C "$b/tools" ARCH=arm64 LOG=6 CROSS_COMPILE=aarch64-linux-gnu- all >"$t/log" 2>&1 || { cat "$t/log" >&2; exit 1; }
cp "$b/driver/hvisor.ko" "$b/driver/ivc.ko" "$b/tools/hvisor" "$OUT/"
cp -r "$b/include" "$OUT/include"   # the ABI headers, for the layout tests
