// SPDX-License-Identifier: Apache-2.0

package token

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
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
	secrets := map[string]*corev1.Secret{
		"abcdef": bootstrapSecret("abcdef", "0123456789abcdef", time.Hour, "true"),
		"expird": bootstrapSecret("expird", "0123456789abcdef", -time.Minute, "true"),
		"noauth": bootstrapSecret("noauth", "0123456789abcdef", time.Hour, ""),
	}
	lookup := func(_ context.Context, id string) (*corev1.Secret, error) {
		if s, ok := secrets[id]; ok {
			return s, nil
		}
		return nil, errors.New("not found")
	}
	c := Checker{ServerFile: server, AgentFile: agent, Bootstrap: lookup}
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
		{"node", "abcdef.0123456789abcdef", UserNode, true},
		{"server", "abcdef.0123456789abcdef", UserNode, true}, // a bootstrap token joins agents only
		{"node", "abcdef.0123456789abcdee", "", false},        // wrong secret
		{"node", "expird.0123456789abcdef", "", false},        // expired
		{"node", "noauth.0123456789abcdef", "", false},        // not for authentication
		{"node", "zzzzzz.0123456789abcdef", "", false},        // unknown id
	} {
		role, ok := c.Check(context.Background(), tc.user, tc.secret)
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

func bootstrapSecret(id, secret string, ttl time.Duration, auth string) *corev1.Secret {
	data := map[string][]byte{
		"token-id": []byte(id), "token-secret": []byte(secret),
		"expiration": []byte(time.Now().Add(ttl).UTC().Format(time.RFC3339)),
	}
	if auth != "" {
		data["usage-bootstrap-authentication"] = []byte(auth)
	}
	return &corev1.Secret{Type: "bootstrap.kubernetes.io/token", Data: data}
}
