#!/usr/bin/env bash
# make conformance: builds upstream's e2e.test and ginkgo (build.sh) and the
# test images (images.sh), then runs the [Conformance] suite on a 1 server +
# 2 agent cluster of node containers (tests/e2e/conformance_test.go) and
# writes bench/conformance.md. About 50 minutes on 2 cores; not part of make test.
#   scripts/conformance/run.sh            the whole suite
#   WREN_CONFORMANCE_FOCUS='ImageVolume' scripts/conformance/run.sh
#                                          only the specs matching a regexp
#                                          (report in build/conformance/)
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/conformance/build.sh
scripts/conformance/images.sh
mkdir -p build/conformance
go test -count=1 -tags 'e2e conformance' -run '^TestConformance$' -timeout 6h -v ./tests/e2e/ 2>&1 |
  tee build/conformance/test.log
