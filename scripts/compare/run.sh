#!/usr/bin/env bash
# `make compare`: builds the upstream control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) from the module versions wren
# links, as separate stripped programs in build/upstream/, then runs it side
# by side with `wren server --disable-agent` and writes bench/compare.md.
# Extra arguments go to the bench program (-rounds, -idle, -window).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$PWD/build/upstream
mkdir -p "$out"
(
  cd scripts/compare/upstream
  # With the Go flags of the wren program (scripts/build.sh): the same
  # code on both sides (netgo and osusergo make cgo's net and user lookups
  # Go's, as upstream's CGO_ENABLED=0 releases have them), and the build
  # cache of make build serves most of it.
  tags="netgo osusergo providerless sqlite_omit_load_extension no_btrfs no_zfs no_devmapper urfave_cli_no_docs"
  for pkg in go.etcd.io/etcd/server/v3:etcd \
    k8s.io/kubernetes/cmd/kube-apiserver:kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager:kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler:kube-scheduler; do
    echo "building ${pkg#*:}" >&2
    CGO_ENABLED=1 go build -tags "$tags" -ldflags "-s -w -extldflags -static" -o "$out/${pkg#*:}" "${pkg%%:*}"
  done
)
exec go run ./scripts/bench -bin bin/wren -compare "$out" -out bench/compare.md "$@"
