#!/usr/bin/env bash
# Builds bin/wren, the one file users download: a small launcher with the
# release appended, zstd-compressed. The release holds the wren program (one
# static binary with Kubernetes, kine, containerd, kubectl, crictl, CoreDNS
# and metrics-server inside), runc, the containerd shim, CNI plugins and the
# images, all built from their Go modules. Also builds the test images into
# build/images/.
#
# WREN_ARCH=amd64|arm64|armv7 builds for that architecture (default: this
# machine's). Another architecture's build lands in build/<arch>/ (wren and
# payload/), with Debian's cross compilers (scripts/deps.sh cross) for the
# cgo parts: SQLite in the wren program, seccomp in runc.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/version.sh)"
source scripts/images/versions.env

modver() { go list -m -f '{{.Version}}' "$1"; }
K8S_MINOR=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
CONTAINERD_VERSION=$(modver github.com/containerd/containerd/v2)
BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
TAGS="netgo osusergo providerless sqlite_omit_load_extension no_btrfs no_zfs no_devmapper urfave_cli_no_docs"
LDFLAGS="-s -w -extldflags -static"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
  LDFLAGS+=" -X $pkg.gitCommit=$GIT_COMMIT -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done
LDFLAGS+=" -X github.com/wren-k8s/wren/pkg/version.Version=$WREN_VERSION"
LDFLAGS+=" -X github.com/wren-k8s/wren/pkg/version.GitCommit=$GIT_COMMIT"
LDFLAGS+=" -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
for v in PauseImage=$PAUSE_IMAGE CoreDNSImage=$COREDNS_IMAGE MetricsServerImage=$METRICS_SERVER_IMAGE \
  LocalPathHelperImage=$LOCAL_PATH_HELPER_IMAGE; do
  LDFLAGS+=" -X github.com/wren-k8s/wren/pkg/version.$v"
done

host_arch=$(go env GOARCH)
[ "$host_arch" = arm ] && host_arch=armv7
arch=${WREN_ARCH:-$host_arch}
case "$arch" in
  amd64) goenv=(GOARCH=amd64) cc=x86_64-linux-gnu-gcc image_arch=(-arch amd64) ;;
  arm64) goenv=(GOARCH=arm64) cc=aarch64-linux-gnu-gcc image_arch=(-arch arm64) ;;
  armv7) goenv=(GOARCH=arm GOARM=7) cc=arm-linux-gnueabihf-gcc image_arch=(-arch arm -variant v7) ;;
  *) echo "WREN_ARCH=$arch: want amd64, arm64 or armv7" >&2; exit 2 ;;
esac
# cgo programs are linked static. For armv7, with gold: GNU ld 2.40 (bfd)
# drops the Thumb bit of glibc's IFUNC resolvers (R_ARM_IRELATIVE) in a
# static binary as large as the wren program, which then crashes at its
# first instruction; gold links it right.
extld=-static
[ "$arch" = armv7 ] && extld="'-static -fuse-ld=gold'"
LDFLAGS=${LDFLAGS/-extldflags -static/-extldflags $extld}
if [ "$arch" = "$host_arch" ]; then
  out=bin work=build
else
  command -v "$cc" >/dev/null || { echo "WREN_ARCH=$arch needs $cc: run scripts/deps.sh cross" >&2; exit 1; }
  out=build/$arch work=build/$arch
  goenv+=(CC="$cc" PKG_CONFIG_LIBDIR="/usr/lib/$("$cc" -dumpmachine)/pkgconfig")
fi
gobuild() { env "${goenv[@]}" go build "$@"; }
mkimage() { go run ./scripts/images/mkimage "${image_arch[@]}" "$@"; }
mkdir -p "$out" "$work"

# 1. The helpers and images, rebuilt only when their inputs change.
helpers_stamp=$(cat go.mod go.sum scripts/build.sh scripts/images/versions.env scripts/images/*/*.go \
  | sha256sum | cut -c1-16)
payload=$work/payload
if [ "$(cat "$work/helpers.stamp" 2>/dev/null)" != "$helpers_stamp" ]; then
  echo "building helpers (runc, containerd shim, CNI plugins) and images for $arch"
  rm -rf "$payload"
  mkdir -p "$payload/bin" "$payload/images"
  static="-s -w -extldflags $extld"
  # runc needs cgo for nsexec; seccomp links libseccomp statically.
  CGO_ENABLED=1 gobuild -tags "seccomp netgo osusergo urfave_cli_no_docs" \
    -ldflags "$static -X main.version=$(modver github.com/opencontainers/runc | sed s/^v//)" \
    -o "$payload/bin/runc" github.com/opencontainers/runc
  CGO_ENABLED=0 gobuild -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
    -o "$payload/bin/containerd-shim-runc-v2" github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
  cni_version=$(modver github.com/containernetworking/plugins)
  for p in main/bridge main/loopback ipam/host-local meta/portmap meta/bandwidth meta/firewall; do
    CGO_ENABLED=0 gobuild -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$cni_version" \
      -o "$payload/bin/$(basename $p)" "github.com/containernetworking/plugins/plugins/$p"
  done
  # The pause image is carried in the payload.
  CGO_ENABLED=0 gobuild -ldflags "-s -w" -o "$work/pause" ./scripts/images/pause
  mkimage -name "$PAUSE_IMAGE" -entrypoint /pause -file "$work/pause:/pause" -o "$payload/images/pause.tar"
  # CoreDNS and metrics-server are built into the wren program: their images
  # hold only a link to /usr/bin/wren, which the pods mount from the node
  # (manifests/*.yaml). A docker.io name without a registry host is what a
  # manifest's "wrenk8s/x:tag" resolves to.
  for pair in "$COREDNS_IMAGE:github.com/coredns/coredns" "$METRICS_SERVER_IMAGE:sigs.k8s.io/metrics-server"; do
    image=${pair%:*} module=${pair##*:}
    if [ "${image##*:}" != "$(modver "$module")" ]; then
      echo "scripts/images/versions.env: $image does not match $module $(modver "$module") in go.mod" >&2
      exit 1
    fi
  done
  mkimage -name "docker.io/$COREDNS_IMAGE" -entrypoint /coredns -dir usr/bin -link coredns:/usr/bin/wren \
    -o "$payload/images/coredns.tar"
  mkimage -name "docker.io/$METRICS_SERVER_IMAGE" -entrypoint /metrics-server -dir usr/bin -link metrics-server:/usr/bin/wren \
    -dir tmp:1777 -o "$payload/images/metrics-server.tar"
  # The local-path provisioner runs inside wren; its helper pods run a tiny
  # Go helper (upstream's runs a busybox script).
  CGO_ENABLED=0 gobuild -ldflags "-s -w" -o "$work/local-path-helper" ./scripts/images/local-path-helper
  mkimage -name "docker.io/$LOCAL_PATH_HELPER_IMAGE" -entrypoint /local-path-helper \
    -file "$work/local-path-helper:/local-path-helper" -o "$payload/images/local-path-helper.tar"
  # The test images (agnhost), for this machine's tests only.
  if [ "$arch" = "$host_arch" ]; then
    rm -rf build/images && mkdir -p build/images
    CGO_ENABLED=0 go build -ldflags "-s -w" -o build/agnhost k8s.io/kubernetes/test/images/agnhost
    mkimage -name "$AGNHOST_IMAGE" -entrypoint /agnhost -file build/agnhost:/agnhost \
      -dir tmp:1777 -dir uploads:0777 -o build/images/agnhost.tar
  fi
  echo "$helpers_stamp" >"$work/helpers.stamp"
fi

# 2. The wren program into the payload, then the launcher with the payload
# appended: $out/wren is what users download.
#
# crictl is built into the wren program. Upstream has it only as a program
# (package main), so its sources are copied from the module at the version
# go.mod pins, unchanged but for the package clause, into build/_gen/crictl
# (a directory `go ... ./...` skips), and the wren_crictl tag links them.
# Builds for several architectures may run at once: the directory is
# replaced only when its content changes.
gen=build/_gen/crictl
mkdir -p build/_gen
tmp=$(mktemp -d build/_gen/.crictl-XXXXXX)
for f in "$(go list -m -f '{{.Dir}}' sigs.k8s.io/cri-tools)"/cmd/crictl/*.go; do
  case "$f" in *_test.go) continue ;; esac
  sed '0,/^package main$/s//package crictl/' "$f" >"$tmp/$(basename "$f")"
done
printf '%s\n' '// Code generated by scripts/build.sh. DO NOT EDIT.' '' 'package crictl' '' \
  '// Main runs crictl with os.Args.' 'func Main() { main() }' >"$tmp/zz_wren.go"
if diff -qr "$tmp" "$gen" >/dev/null 2>&1; then
  rm -rf "$tmp"
else
  rm -rf "$gen.old" && { [ ! -d "$gen" ] || mv "$gen" "$gen.old"; } && mv "$tmp" "$gen" && rm -rf "$gen.old"
fi
TAGS+=" wren_crictl"
LDFLAGS+=" -X sigs.k8s.io/cri-tools/pkg/version.Version=$(modver sigs.k8s.io/cri-tools)"
echo "building the wren program $WREN_VERSION+k8s${KUBERNETES_VERSION#v} ($GIT_COMMIT) for $arch"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! CGO_ENABLED=1 gobuild -tags "$TAGS" -ldflags "$LDFLAGS" -o "$payload/bin/wren" ./cmd/wren 2>"$log"; then
  cat "$log" >&2
  exit 1
fi
# The linker's dlopen warning for a static binary is expected: wren loads no plugins.
grep -v -e "requires at runtime the shared libraries" -e "in function .pluginOpen" \
  -e "^# github.com/wren-k8s/wren/cmd/wren$" "$log" >&2 || true
# (go build leaves an up-to-date output alone, payload and all: start afresh.)
rm -f "$out/wren.new"
CGO_ENABLED=0 gobuild -trimpath -ldflags "-s -w" -o "$out/wren.new" ./cmd/launcher
# WREN_PAYLOAD_ZSTD: zstd options; make release and make bench use --ultra -22
# (about 3 min here, 55 MB), everyday builds a faster -9 (10 s, 67 MB).
go run ./scripts/payload -src "$payload" -bin "$out/wren.new" -zstd "${WREN_PAYLOAD_ZSTD:--9}"
mv "$out/wren.new" "$out/wren"
for name in kubectl crictl ctr; do ln -sf wren "$out/$name"; done
ls -l "$out/wren" | awk '{printf "%s: %d bytes (launcher and compressed release)\n", $9, $5}'
