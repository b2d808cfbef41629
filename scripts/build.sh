#!/usr/bin/env bash
# Builds bin/wren: one static binary with Kubernetes, kine and kubectl inside.
# CGO is on for SQLite (mattn/go-sqlite3), linked statically.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/version.sh)"

K8S_MINOR=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
TAGS="netgo osusergo providerless sqlite_omit_load_extension no_btrfs"
LDFLAGS="-s -w -extldflags -static"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
  LDFLAGS+=" -X $pkg.gitCommit=$GIT_COMMIT -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done
LDFLAGS+=" -X github.com/wren-k8s/wren/pkg/version.Version=$WREN_VERSION"
LDFLAGS+=" -X github.com/wren-k8s/wren/pkg/version.GitCommit=$GIT_COMMIT"

mkdir -p bin
echo "building bin/wren $WREN_VERSION+k8s${KUBERNETES_VERSION#v} ($GIT_COMMIT)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! CGO_ENABLED=1 go build -tags "$TAGS" -ldflags "$LDFLAGS" -o bin/wren.new ./cmd/wren 2>"$log"; then
  cat "$log" >&2
  exit 1
fi
# The linker's dlopen warning for a static binary is expected: wren loads no plugins.
grep -v -e "requires at runtime the shared libraries" -e "in function .pluginOpen" \
  -e "^# github.com/wren-k8s/wren/cmd/wren$" "$log" >&2 || true
mv bin/wren.new bin/wren
ln -sf wren bin/kubectl
ls -l bin/wren | awk '{printf "bin/wren: %d bytes\n", $5}'
