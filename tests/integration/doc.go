// SPDX-License-Identifier: Apache-2.0

// Package integration starts the real wren binary on this machine, one server
// at a time, and checks one feature per test through kubectl and client-go.
// Build tag: integration. Run with scripts/test.sh integration (make test).
package integration
