#!/usr/bin/env bash
# Runs one level of tests, or all of them:
#   scripts/test.sh unit|integration|e2e|all
# Integration and e2e tests start the real bin/wren (built by make build).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
: "${GOTESTFLAGS:=}"

unit() {
  echo "== unit tests"
  go test -count=1 $GOTESTFLAGS ./pkg/... ./cmd/...
}

integration() {
  echo "== integration tests (real binary, one server at a time)"
  go test -count=1 -p 1 -tags integration -timeout 60m $GOTESTFLAGS ./tests/integration/...
}

e2e() {
  if [ -d tests/e2e ] && compgen -G "tests/e2e/*_test.go" >/dev/null; then
    echo "== e2e tests"
    go test -count=1 -p 1 -tags e2e -timeout 60m $GOTESTFLAGS ./tests/e2e/...
  fi
}

case "$mode" in
  unit) unit ;;
  integration) integration ;;
  e2e) e2e ;;
  all) unit; integration; e2e ;;
  *) echo "usage: $0 unit|integration|e2e|all" >&2; exit 2 ;;
esac
