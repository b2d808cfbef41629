#!/usr/bin/env bash
# `make run`: starts bin/wren as a single-node cluster in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
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
    $(pwd)/bin/wren kubectl get --raw /readyz?verbose

MSG
# Until the node lands (issue 3), wren runs the control plane only.
exec bin/wren server --disable-agent "$@"
