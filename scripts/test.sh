#!/usr/bin/env bash
# Runs one level of tests, or all of them:
#   scripts/test.sh unit|integration|e2e|soak|cross|all
# Integration, e2e and soak tests start the real bin/wren (built by make
# build); soak runs a node and a workload for 10 minutes in 1 GiB of memory;
# cross builds wren for arm64 and armv7 and smoke-tests them under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
: "${GOTESTFLAGS:=}"
cross_arches="arm64 armv7"

unit() {
  echo "== unit tests"
  go test -count=1 $GOTESTFLAGS ./pkg/... ./cmd/... ./scripts/...
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

soak() {
  echo "== soak: a node, its add-ons and a workload in a 1 GiB memory cgroup"
  go test -count=1 -tags soak -timeout 30m $GOTESTFLAGS ./tests/soak/...
}

cross_build() {
  for arch in $cross_arches; do
    WREN_ARCH=$arch scripts/build.sh
  done
}

cross_test() {
  echo "== cross builds under qemu-user ($cross_arches)"
  go test -count=1 -tags cross -timeout 30m $GOTESTFLAGS ./tests/cross/...
}

case "$mode" in
  unit) unit ;;
  integration) integration ;;
  e2e) e2e ;;
  soak) soak ;;
  cross) cross_build; cross_test ;;
  all)
    # The cross builds take half an hour of CPU; they run at the lowest
    # priority while the other tests (which mostly wait on clusters) run.
    mkdir -p build
    nice -n 19 bash -c "$(declare -f cross_build); cross_arches='$cross_arches'; cross_build" >build/cross-build.log 2>&1 &
    cross_pid=$!
    trap 'kill $cross_pid 2>/dev/null || true' EXIT
    unit; integration; e2e; soak
    echo "== waiting for the cross builds (build/cross-build.log)"
    if ! wait "$cross_pid"; then
      tail -40 build/cross-build.log >&2
      exit 1
    fi
    cross_test
    ;;
  *) echo "usage: $0 unit|integration|e2e|soak|cross|all" >&2; exit 2 ;;
esac
