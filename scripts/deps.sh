#!/usr/bin/env bash
# Installs what a target needs on a fresh Debian machine, and nothing when it
# is already there (so it also works offline once set up).
#   scripts/deps.sh build|test|bench|release|cross
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
want() { # want <command-or-path> <debian package>
  if [[ $1 == /* ]]; then compgen -G "$1" >/dev/null || need_pkgs+=("$2")
  else command -v "$1" >/dev/null || need_pkgs+=("$2"); fi
}

case "${1:-build}" in
  build)
    want gcc gcc
    want /usr/lib/x86_64-linux-gnu/libc.a libc6-dev
    want git git
    want zstd zstd
    want /usr/lib/x86_64-linux-gnu/libseccomp.a libseccomp-dev
    ;;
  test)
    want '/usr/lib/postgresql/*/bin/postgres' postgresql
    want iptables iptables
    want ip iproute2
    want curl curl
    want mmdebstrap mmdebstrap
    ;;
  bench)
    want zstd zstd
    want curl curl
    ;;
  release)
    want zstd zstd
    want openssl openssl
    ;;
  cross) # building for arm64 and armv7 (cgo: SQLite, runc's seccomp) and running them under qemu
    want aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
    want arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf
    want /usr/aarch64-linux-gnu/lib/libc.a libc6-dev-arm64-cross
    want /usr/arm-linux-gnueabihf/lib/libc.a libc6-dev-armhf-cross
    want /usr/lib/aarch64-linux-gnu/libseccomp.a libseccomp-dev:arm64
    want /usr/lib/arm-linux-gnueabihf/libseccomp.a libseccomp-dev:armhf
    want qemu-aarch64-static qemu-user-static
    ;;
  *) echo "usage: $0 build|test|bench|release|cross" >&2; exit 2 ;;
esac

if ((${#need_pkgs[@]})); then
  echo "installing Debian packages: ${need_pkgs[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "need root to install ${need_pkgs[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  # Debian's multiarch libraries (libseccomp-dev:arm64) need their architectures.
  for a in arm64 armhf; do
    if [[ " ${need_pkgs[*]} " == *":$a "* ]] && ! dpkg --print-foreign-architectures | grep -qx "$a"; then
      dpkg --add-architecture "$a"
    fi
  done
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if [ "${1:-build}" = build ]; then
  command -v go >/dev/null || { echo "Go is required (https://go.dev/dl); expected at /usr/local/go" >&2; exit 1; }
  go mod download
fi
