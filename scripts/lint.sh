#!/usr/bin/env bash
# `make lint`: gofmt and go vet over wren's module (every test build tag)
# and its nested modules, and a syntax check of the shell scripts. Prints
# what is wrong and exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  status=1
fi
for tags in "" integration e2e "e2e,conformance" soak cross; do
  echo "go vet ${tags:+-tags $tags}" >&2
  go vet ${tags:+-tags $tags} ./... || status=1
done
for mod in $(git ls-files '*/go.mod' | xargs -n1 dirname); do
  # Modules with programs of their own; the others only pin upstream code
  # (no Go files, or a `tools` file of imports for go mod tidy).
  if [ -n "$(grep -L '^//go:build tools' "$mod"/*.go 2>/dev/null)" ]; then
    echo "go vet in $mod" >&2
    (cd "$mod" && go vet ./...) || status=1
  fi
done
for f in $(git ls-files '*.sh' .ci/run); do
  bash -n "$f" || { echo "bash -n $f failed" >&2; status=1; }
done
exit $status
