#!/usr/bin/env bash
# `make release`: everything a user's `curl | sh` needs, in dist/, ready to be
# served from any static web server (or read from a file:// mirror):
#   dist/install.sh                 the installer, carrying the release key's public half
#   dist/stable.txt                 the version the installer picks by default
#   dist/<version>/wren-<arch>      the binaries (payload and add-on images inside)
#   dist/<version>/wren-airgap-images-<arch>.tar.zst   the images, for nodes that import them
#   dist/<version>/wren-airgap-images.tar.zst   every architecture's images, one
#                                   multi-arch image index per name (for a private registry)
#   dist/<version>/sha256sum.txt    checksums of the files above
#   dist/<version>/sha256sum.txt.sig  its signature (ECDSA P-256, SHA-256, DER)
#
# WREN_SIGNING_KEY (required): PEM private key (EC P-256) that signs the checksums.
#   openssl ecparam -name prime256v1 -genkey -noout -out release.key
# WREN_RELEASE_ARCHES: architectures to ship (default: amd64 arm64 armv7). The
#   ones not of this machine are cross-built (scripts/build.sh WREN_ARCH=...).
# WREN_RELEASE_SKIP_BUILD=true: package the binaries already built (bin/wren
#   for this machine's architecture, build/<arch>/wren for the others).
# WREN_RELEASE_DIR: where to write (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."

key=${WREN_SIGNING_KEY:-}
[ -n "$key" ] || { echo "make release: WREN_SIGNING_KEY: set it to the PEM private key that signs the release" >&2; exit 2; }
[ -r "$key" ] || { echo "make release: WREN_SIGNING_KEY $key: not readable" >&2; exit 2; }
pub=$(openssl pkey -in "$key" -pubout 2>/dev/null) || { echo "make release: WREN_SIGNING_KEY $key: not a PEM private key" >&2; exit 2; }

host_arch=$(go env GOARCH)
case "$host_arch" in arm) host_arch=armv7 ;; esac
arches=${WREN_RELEASE_ARCHES:-amd64 arm64 armv7}
eval "$(scripts/version.sh)"
version="${WREN_VERSION}+k8s${KUBERNETES_VERSION#v}"
dist=${WREN_RELEASE_DIR:-dist}
out=$dist/$version
rm -rf "$out"
mkdir -p "$out"

all_images=()
for arch in $arches; do
  case "$arch" in amd64 | arm64 | armv7) ;; *) echo "make release: $arch: want amd64, arm64 or armv7" >&2; exit 2 ;; esac
  bin=build/$arch/wren work=build/$arch
  [ "$arch" = "$host_arch" ] && bin=bin/wren work=build
  [ "${WREN_RELEASE_SKIP_BUILD:-}" = true ] || WREN_ARCH=$arch scripts/build.sh
  [ -f "$bin" ] || { echo "make release: $bin: not built (WREN_ARCH=$arch scripts/build.sh)" >&2; exit 1; }
  cp "$bin" "$out/wren-$arch"
  go run ./scripts/images/mergearchive -o "$out/wren-airgap-images-$arch.tar" "$work"/payload/images/*.tar
  zstd -q -19 --rm -f "$out/wren-airgap-images-$arch.tar"
  all_images+=("$work"/payload/images/*.tar)
done
go run ./scripts/images/mergearchive -multiarch -o "$out/wren-airgap-images.tar" "${all_images[@]}"
zstd -q -19 --rm -f "$out/wren-airgap-images.tar"

(cd "$out" && sha256sum wren-* >sha256sum.txt)
openssl dgst -sha256 -sign "$key" -out "$out/sha256sum.txt.sig" "$out/sha256sum.txt"
openssl dgst -sha256 -verify <(echo "$pub") -signature "$out/sha256sum.txt.sig" "$out/sha256sum.txt" >/dev/null

# The installer, with the public key's body in place of its marker line.
BODY=$(echo "$pub" | grep -v -- '-----') awk '$0 == "@WREN_RELEASE_PUBKEY@" { print ENVIRON["BODY"]; next } { print }' \
  scripts/install.sh >"$dist/install.sh.new"
if grep -qx "@WREN_RELEASE_PUBKEY@" "$dist/install.sh.new"; then
  echo "make release: could not put the public key into install.sh" >&2
  exit 1
fi
chmod 755 "$dist/install.sh.new"
mv "$dist/install.sh.new" "$dist/install.sh"
echo "$version" >"$dist/stable.txt"
echo "$dist/: wren $version for $arches, signed with $key"
ls -l "$out"
