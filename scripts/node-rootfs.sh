#!/usr/bin/env bash
# Builds the base image for wren node containers without pulling anything: a
# small Debian rootfs (the host's suite, from the host's own apt sources, made
# with mmdebstrap) holding just the host tools a node uses -- iptables (nft
# backend), nftables, iproute2, mount, procps, conntrack, ca-certificates,
# ping, curl and openssl (install.sh verifies with it) -- docker-imported as wren-rootfs:<tag>, <tag> being a short
# hash of this script, and also tagged wren-rootfs:latest. Does nothing when
# that image exists; the rootfs tarball is kept in build/node-rootfs/ so that
# re-importing it after `docker rmi` downloads nothing. Progress goes to
# stderr; the last line on stdout is the image name.
#   scripts/node-rootfs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tag=$(sha256sum scripts/node-rootfs.sh | cut -c1-12)
image=wren-rootfs:$tag
cache=build/node-rootfs
tarball=$cache/wren-rootfs-$tag.tar
packages=(mount util-linux iptables nftables iproute2 procps conntrack
  ca-certificates iputils-ping curl openssl)

log() { echo "node-rootfs: $*" >&2; }

mkdir -p "$cache"
# One build at a time (parallel `make image` runs share the cache).
exec 9>"$cache/.lock"
flock 9

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image exists"
  docker tag "$image" wren-rootfs:latest
  echo "$image"
  exit 0
fi

if [ ! -s "$tarball" ]; then
  if ! command -v mmdebstrap >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then log "need root to install mmdebstrap"; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache policy mmdebstrap | grep -q 'Candidate: [0-9]'; then
      apt-get update -qq
    fi
    log "installing mmdebstrap"
    apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
  fi
  if [ "$(id -u)" -ne 0 ]; then log "mmdebstrap needs root here (mode root)"; exit 1; fi

  # shellcheck disable=SC1091
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  # The apt sources files this host really fetches Debian from (the mirror
  # configured here is the one that works); mmdebstrap pastes each file into
  # the chroot's sources. Without apt lists on the host, fall back to the
  # source files as they are, then to mmdebstrap's default mirror.
  # shellcheck disable=SC2016 # $(SOURCESENTRY) is apt's format, not ours
  mapfile -t sources < <(apt-get indextargets --format '$(SOURCESENTRY)' 'Origin: Debian' \
    | sed 's/:[0-9]*$//' | sort -u)
  if ((${#sources[@]} == 0)); then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      if [ -f "$f" ] && grep -q '^[^#]*debian' "$f"; then sources+=("$f"); fi
    done
  fi
  log "building the $suite rootfs from ${sources[*]:-deb.debian.org}"

  # Keep it small: no docs (but copyrights), man pages, info, locales or
  # iconv charset modules (8 MB, nothing here converts charsets); the excludes
  # stay in the image's dpkg config. mmdebstrap itself drops the apt lists and
  # caches. Merged /usr the debootstrap way (directory symlinks plus
  # usr-is-merged): the default would install usrmerge and 50 MB of perl.
  # iptables must be the nft variant, like the host's.
  start=$SECONDS
  tmp=$cache/wren-rootfs-$tag.partial.tar
  rm -f "$tmp"
  trap 'rm -f "$tmp"' EXIT
  # shellcheck disable=SC2016 # "$1" in a hook is the chroot, set by mmdebstrap
  mmdebstrap --mode=root --variant=essential \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include="$(IFS=,; echo "${packages[*]}")" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/share/bash-completion/*' \
    --dpkgopt='path-exclude=/usr/share/zsh/*' \
    --dpkgopt='path-exclude=/usr/lib/*/gconv/*' \
    --customize-hook='chroot "$1" update-alternatives --set iptables /usr/sbin/iptables-nft' \
    --customize-hook='chroot "$1" update-alternatives --set ip6tables /usr/sbin/ip6tables-nft' \
    --customize-hook='rm -rf "$1"/var/log/* "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
    --customize-hook='rm -f "$1"/etc/hostname "$1"/etc/resolv.conf' \
    "$suite" "$tmp" "${sources[@]}"
  mv "$tmp" "$tarball"
  find "$cache" -name 'wren-rootfs-*.tar' ! -name "${tarball##*/}" -delete # older tags
  log "rootfs built in $((SECONDS - start))s: $tarball ($(du -h "$tarball" | cut -f1))"
else
  log "importing the cached $tarball"
fi

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' \
  --message "wren node rootfs (scripts/node-rootfs.sh $tag)" \
  "$tarball" "$image" >/dev/null
docker tag "$image" wren-rootfs:latest
log "imported $image ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
echo "$image"
