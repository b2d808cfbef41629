#!/usr/bin/env bash
# Builds the upstream conformance suite at the Kubernetes version wren
# embeds: build/conformance/e2e.test (k8s.io/kubernetes/test/e2e, unchanged)
# and build/conformance/ginkgo, from the nested module scripts/conformance/e2e.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$PWD/build/conformance
mkdir -p "$out"
cd scripts/conformance/e2e
want=$(cd ../../.. && go list -m -f '{{.Version}}' k8s.io/kubernetes)
have=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
if [ "$want" != "$have" ]; then
  echo "scripts/conformance/e2e/go.mod has k8s.io/kubernetes $have, wren has $want: update it" >&2
  exit 1
fi
echo "building e2e.test and ginkgo (k8s.io/kubernetes $have)" >&2
# The version e2e.test reports (and compares with the server's), as in
# upstream's release builds.
minor=$(echo "$have" | cut -d. -f2)
ldflags="-s -w"
for v in gitVersion=$have gitMajor=1 gitMinor=$minor gitTreeState=clean; do
  ldflags+=" -X k8s.io/component-base/version.$v"
done
CGO_ENABLED=0 go test -c -o "$out/e2e.test" -ldflags "$ldflags" k8s.io/kubernetes/test/e2e
CGO_ENABLED=0 go build -o "$out/ginkgo" -ldflags "-s -w" github.com/onsi/ginkgo/v2/ginkgo
