//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/pkg/token"
	"github.com/wren-k8s/wren/tests/testutil"
)

// TestJoinRoutesNeedCredentials checks every supervisor route a node uses
// refuses a request without a token or node certificate, and that the
// token routes accept the server's token.
func TestJoinRoutesNeedCredentials(t *testing.T) {
	s := testutil.StartServer(t, "--agent-token", "agent-secret-1")
	url := fmt.Sprintf("https://127.0.0.1:%d", s.Port)
	insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	do := func(method, path, user, secret string) (int, string) {
		req, err := http.NewRequest(method, url+path, strings.NewReader("{}"))
		require.NoError(t, err)
		if user != "" {
			req.SetBasicAuth(user, secret)
		}
		resp, err := insecure.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1-wren/config"}, {"POST", "/v1-wren/node-certs"}, {"GET", "/v1-wren/readyz"}, {"GET", "/v1-wren/connect"},
		{"GET", "/v1-wren/encrypt/status"}, {"POST", "/v1-wren/encrypt/config"}, {"POST", "/v1-wren/token"},
	} {
		code, _ := do(r.method, r.path, "", "")
		assert.Equal(t, http.StatusUnauthorized, code, "%s %s without credentials", r.method, r.path)
		code, _ = do(r.method, r.path, "node", "wrong-secret")
		assert.Equal(t, http.StatusUnauthorized, code, "%s %s with a wrong secret", r.method, r.path)
	}
	serverTok, err := os.ReadFile(filepath.Join(s.DataDir, "server", "token"))
	require.NoError(t, err)
	st, err := token.Parse(string(serverTok))
	require.NoError(t, err)
	code, body := do("GET", "/v1-wren/config", "node", st.Secret)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"clusterCIDR":"10.42.0.0/16"`)
	code, _ = do("GET", "/v1-wren/config", "node", "agent-secret-1")
	assert.Equal(t, http.StatusOK, code, "the agent token joins nodes")
	code, body = do("GET", "/v1-wren/readyz", "node", "agent-secret-1")
	assert.Equal(t, http.StatusOK, code, body)
	// The agent token's file pins the CA, with user "node".
	agentTok, err := os.ReadFile(filepath.Join(s.DataDir, "server", "agent-token"))
	require.NoError(t, err)
	at, err := token.Parse(string(agentTok))
	require.NoError(t, err)
	assert.Equal(t, st.CAHash, at.CAHash)
	assert.Equal(t, "node", at.User)
	// A node certificate request without a password is refused, even with a token.
	code, _ = do("POST", "/v1-wren/node-certs", "node", "agent-secret-1")
	assert.Equal(t, http.StatusBadRequest, code)
	// The server's own routes want the server token, not the agent token.
	code, _ = do("POST", "/v1-wren/token", "server", "agent-secret-1")
	assert.Equal(t, http.StatusUnauthorized, code, "the agent token rotated the server token")
	code, _ = do("GET", "/v1-wren/encrypt/status", "node", st.Secret)
	assert.Equal(t, http.StatusUnauthorized, code, "the server token with user node reached a server route")
	code, _ = do("GET", "/v1-wren/encrypt/status", "server", st.Secret)
	assert.Equal(t, http.StatusOK, code)
}

// TestTokenRotate replaces the server token: the old one is refused from
// then on, the new one joins, and a restart with the old --token still in
// the service's configuration starts with a warning.
func TestTokenRotate(t *testing.T) {
	s := testutil.StartServer(t, "--token", "first-secret-1")
	url := fmt.Sprintf("https://127.0.0.1:%d", s.Port)
	joins := func(secret string) int {
		req, err := http.NewRequest("GET", url+"/v1-wren/config", nil)
		require.NoError(t, err)
		req.SetBasicAuth("node", secret)
		resp, err := insecureClient().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, joins("first-secret-1"))
	rotate := func(args ...string) testutil.Result {
		return testutil.RunWren(t, time.Minute, nil, append([]string{"token", "rotate", "--data-dir", s.DataDir, "--server", url}, args...)...)
	}
	res := rotate("--new-token", "second-secret-2")
	require.Zero(t, res.ExitCode, res.Stderr)
	tok, err := token.Parse(res.Stdout)
	require.NoError(t, err)
	assert.Equal(t, "second-secret-2", tok.Secret)
	assert.NotEmpty(t, tok.CAHash)
	assert.Equal(t, http.StatusUnauthorized, joins("first-secret-1"), "the old token still joins")
	assert.Equal(t, http.StatusOK, joins("second-secret-2"))

	res = rotate("--token", "first-secret-1")
	assert.NotZero(t, res.ExitCode)
	assert.Contains(t, res.Stderr, "rejected")
	res = rotate("--new-token", "second-secret-2")
	assert.NotZero(t, res.ExitCode)
	assert.Contains(t, res.Stderr, "it is the current token")

	s.Stop()
	s.Start() // still with --token first-secret-1
	s.WaitReady(2 * time.Minute)
	log, err := os.ReadFile(s.LogPath)
	require.NoError(t, err)
	assert.Contains(t, string(log), "--token was rotated away")
	assert.Equal(t, http.StatusUnauthorized, joins("first-secret-1"))
	assert.Equal(t, http.StatusOK, joins("second-secret-2"))
}

// TestAgentBadJoin checks `wren agent` refuses a wrong secret, a token for
// another cluster and a server that is not wren, each with one line and
// without writing to its data dir.
func TestAgentBadJoin(t *testing.T) {
	s := testutil.StartServer(t)
	url := fmt.Sprintf("https://127.0.0.1:%d", s.Port)
	b, err := os.ReadFile(filepath.Join(s.DataDir, "server", "token"))
	require.NoError(t, err)
	good, err := token.Parse(string(b))
	require.NoError(t, err)
	otherCluster := token.Token{CAHash: strings.Repeat("ab", 32), User: "server", Secret: good.Secret}
	wrongSecret := token.Token{CAHash: good.CAHash, User: "server", Secret: "not-the-secret"}
	notWren := httptest.NewTLSServer(http.NotFoundHandler())
	defer notWren.Close()
	cases := []struct{ name, server, token, want string }{
		{"wrong secret", url, wrongSecret.String(), "--token: rejected by " + url + ": wrong or expired token"},
		{"token for another cluster", url, otherCluster.String(), "--token: the CA of " + url + " does not match the hash in the token"},
		{"not a wren server", notWren.URL, good.String(), "is not a wren server: GET /cacerts answered 404"},
		{"no server", "", good.String(), "--server: required"},
		{"malformed token", url, "W10abc::x:y", "--token: token CA hash has 3 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "agent")
			args := []string{"agent", "--data-dir", dataDir, "--token", tc.token}
			if tc.server != "" {
				args = append(args, "--server", tc.server)
			}
			res := testutil.RunWren(t, time.Minute, nil, args...)
			require.NotZero(t, res.ExitCode, "stderr:\n%s", res.Stderr)
			line := lastLine(res.Stderr)
			assert.True(t, strings.HasPrefix(line, "wren: "), "error line %q", line)
			assert.Contains(t, line, tc.want)
			testutil.AssertNoState(t, dataDir, "a refused join writes nothing to the data dir")
		})
	}
}

// TestBootstrapTokens checks `wren token create|list|delete` against a real
// server: a bootstrap token opens the join routes until it expires or is
// deleted, an expired one makes `wren agent` fail with one line and write
// nothing, and bad input to the commands is refused.
func TestBootstrapTokens(t *testing.T) {
	s := testutil.StartServer(t)
	url := fmt.Sprintf("https://127.0.0.1:%d", s.Port)
	kc := []string{"--kubeconfig", s.Kubeconfig}
	wrenToken := func(args ...string) testutil.Result {
		return testutil.RunWren(t, time.Minute, nil, append(append([]string{"token"}, args...), kc...)...)
	}
	insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	status := func(secret string) int {
		req, err := http.NewRequest("GET", url+"/v1-wren/config", nil)
		require.NoError(t, err)
		req.SetBasicAuth("node", secret)
		resp, err := insecure.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	serverTok, err := os.ReadFile(filepath.Join(s.DataDir, "server", "token"))
	require.NoError(t, err)
	st, err := token.Parse(string(serverTok))
	require.NoError(t, err)

	res := wrenToken("create", "--ttl", "1h", "--description", "for the test")
	require.Zero(t, res.ExitCode, res.Stderr)
	long, err := token.Parse(strings.TrimSpace(res.Stdout))
	require.NoError(t, err)
	assert.Equal(t, st.CAHash, long.CAHash, "the printed token pins the cluster CA")
	require.True(t, token.IsBootstrap(long.Secret), long.Secret)
	assert.Equal(t, http.StatusOK, status(long.Secret))

	res = wrenToken("create", "abcdef.0123456789abcdef", "--ttl", "2s")
	require.Zero(t, res.ExitCode, res.Stderr)
	short, err := token.Parse(strings.TrimSpace(res.Stdout))
	require.NoError(t, err)
	assert.Equal(t, "abcdef.0123456789abcdef", short.Secret)

	res = wrenToken("list")
	require.Zero(t, res.ExitCode, res.Stderr)
	assert.Contains(t, res.Stdout, long.Secret)
	assert.Contains(t, res.Stdout, "for the test")
	assert.Contains(t, res.Stdout, "abcdef.0123456789abcdef")
	assert.Contains(t, res.Stdout, "system:bootstrappers:wren:default-node-token")

	// Expired: refused by the routes and by `wren agent`, nothing written.
	time.Sleep(3 * time.Second)
	assert.Equal(t, http.StatusUnauthorized, status(short.Secret), "an expired token")
	dataDir := filepath.Join(t.TempDir(), "agent")
	res = testutil.RunWren(t, time.Minute, nil, "agent", "--data-dir", dataDir, "--server", url, "--token", short.String())
	require.NotZero(t, res.ExitCode, res.Stderr)
	assert.Contains(t, lastLine(res.Stderr), "wrong or expired token")
	testutil.AssertNoState(t, dataDir, "a refused join writes nothing to the data dir")
	// The controller manager's tokencleaner removes expired tokens.
	testutil.Eventually(t, time.Minute, time.Second, "expired token cleaned up", func() error {
		res := wrenToken("list")
		if res.ExitCode != 0 || strings.Contains(res.Stdout, "abcdef.") || !strings.Contains(res.Stdout, long.Secret) {
			return fmt.Errorf("list (exit %d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
		}
		return nil
	})

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "not-a-token"}, `token "not-a-token" is not of the form`},
		{[]string{"create", "--ttl", "-1h"}, "--ttl must not be negative"},
		{[]string{"create", "--usages", "launch"}, "--usages"},
		{[]string{"create", "--groups", "admins"}, "--groups"},
		{[]string{"create", long.Secret}, "already exists"},
		{[]string{"delete", "zzzzzz"}, `no bootstrap token with id "zzzzzz"`},
		{[]string{"delete", "NOT"}, "is not a bootstrap token id"},
	} {
		res := wrenToken(bad.args...)
		assert.NotZero(t, res.ExitCode, "%v", bad.args)
		assert.Contains(t, lastLine(res.Stderr), bad.want, "%v", bad.args)
	}
	res = testutil.RunWren(t, time.Minute, nil, "token", "list", "--kubeconfig", filepath.Join(t.TempDir(), "missing.yaml"))
	assert.NotZero(t, res.ExitCode)
	assert.Contains(t, lastLine(res.Stderr), "--kubeconfig")

	// Deleted: refused at once.
	res = wrenToken("delete", long.String())
	require.Zero(t, res.ExitCode, res.Stderr)
	assert.Equal(t, http.StatusUnauthorized, status(long.Secret), "a deleted token")
}
