# wren: see README.md. Every target installs what it needs (scripts/deps.sh).
.PHONY: build run test unit integration e2e soak cross bench compare conformance image release lint clean

build:
	@scripts/deps.sh build
	@scripts/build.sh

# Build, then run a single-node cluster in the foreground (Ctrl-C stops it).
run: build
	@scripts/run.sh

# The whole test suite: unit, integration (real binary), e2e, the 1 GiB
# soak, and the arm64/armv7 builds under qemu-user.
test: build
	@scripts/deps.sh test
	@scripts/deps.sh cross
	@scripts/test.sh all

unit:
	@scripts/test.sh unit

integration: build
	@scripts/deps.sh test
	@scripts/test.sh integration

e2e: build
	@scripts/deps.sh test
	@scripts/test.sh e2e

soak: build
	@scripts/deps.sh test
	@scripts/test.sh soak

# arm64 and armv7 builds, smoke-tested under qemu-user.
cross:
	@scripts/deps.sh build
	@scripts/deps.sh cross
	@scripts/test.sh cross

# What users download is compressed harder than everyday builds (about 3 min).
bench release: export WREN_PAYLOAD_ZSTD = --ultra -22

bench: build
	@scripts/deps.sh bench
	@scripts/bench/run.sh

# wren's control plane side by side with upstream etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler run as separate programs
# (bench/compare.md; the first run builds them, ~10 min).
compare: build
	@scripts/deps.sh bench
	@scripts/compare/run.sh

# Upstream's [Conformance] suite on a 1 server + 2 agent cluster, offline
# (bench/conformance.md; about 50 minutes, not part of make test).
conformance: build
	@scripts/deps.sh test
	@scripts/conformance/run.sh

# dist/: signed binaries for amd64, arm64 and armv7, checksums, install.sh
# and the air-gap images (WREN_SIGNING_KEY=<PEM EC P-256 private key> is
# required; WREN_RELEASE_ARCHES picks the architectures).
release: build
	@scripts/deps.sh release
	@scripts/deps.sh cross
	@WREN_RELEASE_SKIP_BUILD=true scripts/release.sh

# The node image: bin/wren on a Debian rootfs built by scripts/node-rootfs.sh.
image: build
	@base=$$(scripts/node-rootfs.sh) && base=$$(echo "$$base" | tail -n1) && \
	  docker build --build-arg BASE="$$base" -t wren:dev .

lint:
	@scripts/lint.sh

clean:
	rm -rf bin build
