//go:build e2e

// SPDX-License-Identifier: Apache-2.0

// Package e2e holds the multi-node tests: a server and agents as privileged
// containers from the project's image (Dockerfile on a Debian rootfs built by
// scripts/node-rootfs.sh) on a Docker network of their own. Every container,
// network and image a test makes carries the wren-e2e label and is removed
// afterwards, also when the test fails.
package e2e
