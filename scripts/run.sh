#!/usr/bin/env bash
# `make run`: starts bin/wren as a single-node cluster in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/images/versions.env
if [ "$(id -u)" -eq 0 ]; then
  data=/var/lib/wren kubeconfig=/etc/wren/wren.yaml
else
  data=$HOME/.wren kubeconfig=$HOME/.kube/wren.yaml
fi
cat <<MSG

  wren is starting (Ctrl-C stops it; data is kept for the next start).
    data:        $data
    kubeconfig:  $kubeconfig
  Once it logs "wren server is ready", try in another terminal:
    $(pwd)/bin/wren kubectl get nodes
    $(pwd)/bin/wren kubectl run hello --image=$AGNHOST_IMAGE -- netexec
    $(pwd)/bin/wren kubectl get pods -o wide
    $(pwd)/bin/wren kubectl -n kube-system get pods   # CoreDNS, local-path, metrics-server
    $(pwd)/bin/wren kubectl top nodes                 # once metrics-server has scraped (~1 min)

MSG
# The test images built by make build (agnhost) are imported at start, so
# `kubectl run` works without a registry.
mkdir -p "$data/agent/images"
for tarball in build/images/*.tar; do
  ln -sf "$(pwd)/$tarball" "$data/agent/images/$(basename "$tarball")"
done
exec bin/wren server "$@"
