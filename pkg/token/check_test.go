// SPDX-License-Identifier: Apache-2.0

package token

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckerRoles(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(ca, []byte("a CA bundle"), 0o644))
	server := filepath.Join(dir, "token")
	agent := filepath.Join(dir, "agent-token")
	_, err := EnsureServer(server, ca, "server-secret")
	require.NoError(t, err)
	require.NoError(t, EnsureAgent(agent, ca, "agent-secret"))
	c := Checker{ServerFile: server, AgentFile: agent}
	for _, tc := range []struct {
		user, secret, role string
		ok                 bool
	}{
		{"server", "server-secret", UserServer, true},
		{"node", "server-secret", UserNode, true},
		{"node", "agent-secret", UserNode, true},
		{"server", "agent-secret", "", false}, // an agent token cannot act as a server
		{"node", "wrong", "", false},
		{"node", "", "", false},
	} {
		role, ok := c.Check(tc.user, tc.secret)
		assert.Equal(t, tc.ok, ok, "%s:%s", tc.user, tc.secret)
		assert.Equal(t, tc.role, role, "%s:%s", tc.user, tc.secret)
	}
	b, err := os.ReadFile(agent)
	require.NoError(t, err)
	tok, err := Parse(string(b))
	require.NoError(t, err)
	assert.Equal(t, UserNode, tok.User)
	assert.NoError(t, tok.CheckCA([]byte("a CA bundle")))
}
