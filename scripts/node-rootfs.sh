#!/usr/bin/env bash
# Builds the base image for wren node containers without pulling anything: a
# small Debian rootfs (the host's suite, from the host's own apt sources, made
# with mmdebstrap by scripts/lib/debian-rootfs.sh) holding just the host tools
# a node uses -- iptables (nft backend), nftables, iproute2, mount, procps,
# conntrack, ca-certificates, ping, curl and openssl (install.sh verifies with
# it) -- docker-imported as wren-rootfs:<tag>, <tag> being a short hash of
# this script and the library, and also tagged wren-rootfs:latest. Does
# nothing when that image exists; the rootfs tarball is kept in
# build/node-rootfs/ so that re-importing it after `docker rmi` downloads
# nothing. Progress goes to stderr; the last line on stdout is the image name.
#   scripts/node-rootfs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tag=$(cat scripts/node-rootfs.sh scripts/lib/debian-rootfs.sh | sha256sum | cut -c1-12)
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
  # shellcheck source=scripts/lib/debian-rootfs.sh
  . scripts/lib/debian-rootfs.sh
  # iptables must be the nft variant, like the host's.
  start=$SECONDS
  # shellcheck disable=SC2016 # "$1" in a hook is the chroot, set by mmdebstrap
  debian_rootfs "$tarball" "$(IFS=,; echo "${packages[*]}")" \
    --customize-hook='chroot "$1" update-alternatives --set iptables /usr/sbin/iptables-nft' \
    --customize-hook='chroot "$1" update-alternatives --set ip6tables /usr/sbin/ip6tables-nft' \
    --customize-hook='rm -rf "$1"/var/log/*'
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
