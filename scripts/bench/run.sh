#!/usr/bin/env bash
# `make bench`: measures bin/wren and writes bench/latest.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec go run ./scripts/bench -bin bin/wren -out bench/latest.md "$@"
