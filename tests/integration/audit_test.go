//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// TestAuditLog turns audit logging on with the apiserver's own flag: wren
// writes its default policy, and the log records who created a Secret
// without its content.
func TestAuditLog(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "audit", "audit.log")
	s := testutil.StartServer(t, "--kube-apiserver-arg", "audit-log-path="+logFile)
	policy, err := os.ReadFile(filepath.Join(s.DataDir, "server", "etc", "audit-policy.yaml"))
	require.NoError(t, err, "no default audit policy written")
	assert.Contains(t, string(policy), "level: Metadata")

	require.NoError(t, createSecret(context.Background(), s, "audited", "audit-plain-91c2"))
	testutil.Eventually(t, 30*time.Second, 500*time.Millisecond, "the create in the audit log", func() error {
		b, err := os.ReadFile(logFile)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, `"verb":"create"`) && strings.Contains(line, `"name":"audited"`) && strings.Contains(line, `"username":"system:admin"`) {
				return nil
			}
		}
		return errors.New("not logged yet")
	})
	b, err := os.ReadFile(logFile)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "audit-plain-91c2", "a Secret's content reached the audit log")
	assert.NotContains(t, string(b), "/readyz", "health checks are logged")
}
