//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"testing"

	"github.com/wren-k8s/wren/tests/testutil"
)

// TestSIGTERMExitsZero: Stop fails the test unless wren exits 0 on SIGTERM.
func TestSIGTERMExitsZero(t *testing.T) {
	s := testutil.StartServer(t)
	s.Stop()
}
