#!/usr/bin/env bash
# Prints the version variables every script uses: wren's and Kubernetes'.
# Kubernetes' version comes from go.mod, so there is one place to change it.
set -euo pipefail
cd "$(dirname "$0")/.."
WREN_VERSION=${WREN_VERSION:-v0.1.0}
KUBERNETES_VERSION=$(awk '$1=="k8s.io/kubernetes" {print $2; exit}' go.mod)
GIT_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then GIT_COMMIT="${GIT_COMMIT}-dirty"; fi
echo "WREN_VERSION=$WREN_VERSION"
echo "KUBERNETES_VERSION=$KUBERNETES_VERSION"
echo "GIT_COMMIT=$GIT_COMMIT"
