//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
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

// firstCert is the first certificate of a PEM file.
func firstCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block, path)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

// servingIssuer is the issuer of the certificate served at addr.
func servingIssuer(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only the certificate is read
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Issuer.CommonName
}

// rotateCA runs `wren certificate rotate-ca` on srv and returns the new
// server CA's name.
func rotateCA(t *testing.T, srv *testutil.Server) string {
	t.Helper()
	res := testutil.RunWren(t, time.Minute, nil, "certificate", "rotate-ca", "--data-dir", srv.DataDir)
	require.Zero(t, res.ExitCode, res.Stderr)
	require.Contains(t, res.Stdout, "rotated the server, client and request-header CAs")
	return firstCert(t, filepath.Join(srv.DataDir, "server", "tls", "server-ca.crt")).Subject.CommonName
}

// TestRotateCA replaces the CAs of a running server with a joined agent and
// a pod on it: during the overlap, clients holding only the old CA (a
// kubeconfig copied before, the agent before it refreshes) keep working,
// the agent moves to the new CA by itself, nothing restarts, and a join
// token made before the rotation still joins. A second rotation ends the
// first CA's overlap.
func TestRotateCA(t *testing.T) {
	env := "WREN_NEW_SIGNED_CERT_VALIDITY=10m" // renewal checks every 30 s
	srv := testutil.NewServer(t, "--disable", "coredns,metrics-server,local-storage,servicelb,helm-controller")
	srv.Env = append(srv.Env, env)
	srv.Start()
	srv.WaitReady(3 * time.Minute)
	a := testutil.NewAgent(t, srv, "", "--node-name", "wren-agent")
	a.Env = append(a.Env, env)
	a.Start()
	a.WaitReady(3 * time.Minute)
	srv.WaitNodeReady(3 * time.Minute)
	_, err := srv.KubectlStdin(agentPod, "apply", "-f", "-")
	require.NoError(t, err)
	waitPod(t, srv, "web", "{.status.containerStatuses[0].ready}", "true")
	containerID := jsonpath(srv, "{.status.containerStatuses[0].containerID}", "get", "pod", "web")
	srvPID, agentPID := srv.PID(), a.PID()

	oldKubeconfig := filepath.Join(t.TempDir(), "old.kubeconfig")
	b, err := os.ReadFile(srv.Kubeconfig)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(oldKubeconfig, b, 0o600))
	serverCA := filepath.Join(srv.DataDir, "server", "tls", "server-ca.crt")
	firstCA := firstCert(t, serverCA).Subject.CommonName
	apiAddr := fmt.Sprintf("127.0.0.1:%d", srv.Port)

	secondCA := rotateCA(t, srv)
	require.NotEqual(t, firstCA, secondCA)
	testutil.Eventually(t, time.Minute, time.Second, "the apiserver serves a certificate of the new CA", func() error {
		if got := servingIssuer(t, apiAddr); got != secondCA {
			return fmt.Errorf("issued by %s", got)
		}
		return nil
	})

	t.Run("clients with only the old CA keep working", func(t *testing.T) {
		out, err := srv.Kubectl("--kubeconfig", oldKubeconfig, "get", "nodes", "-o", "name")
		require.NoError(t, err, out)
		assert.Contains(t, out, "node/wren-agent")
	})
	t.Run("the agent moves to the new CA by itself", func(t *testing.T) {
		agentCA := filepath.Join(a.DataDir, "agent", "tls", "server-ca.crt")
		testutil.Eventually(t, 2*time.Minute, 2*time.Second, "the agent has the new bundle and certificates", func() error {
			want, _ := os.ReadFile(serverCA)
			got, _ := os.ReadFile(agentCA)
			if !bytes.Equal(want, got) {
				return fmt.Errorf("the agent's CA bundle is still the old one")
			}
			clientCA := firstCert(t, filepath.Join(srv.DataDir, "server", "tls", "client-ca.crt")).Subject.CommonName
			if issuer := firstCert(t, filepath.Join(a.DataDir, "agent", "tls", "client-kubelet.crt")).Issuer.CommonName; issuer != clientCA {
				return fmt.Errorf("kubelet client certificate issued by %s, not %s", issuer, clientCA)
			}
			return nil
		})
		assert.Equal(t, secondCA, servingIssuer(t, "127.0.0.1:10250"), "the agent's kubelet serves a certificate of the new CA")
	})
	t.Run("logs and exec through the tunnel, the node stays Ready, nothing restarted", func(t *testing.T) {
		testutil.Eventually(t, time.Minute, 2*time.Second, "logs through the tunnel", func() error {
			out, err := srv.Kubectl("logs", "web")
			if err != nil || !strings.Contains(out, "Started HTTP server") {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		out, err := srv.Kubectl("exec", "web", "--", "/agnhost", "dns-suffix")
		require.NoError(t, err, out)
		srv.WaitNodeReady(time.Minute)
		assert.Equal(t, srvPID, srv.PID())
		assert.Equal(t, agentPID, a.PID())
		assert.Equal(t, containerID, jsonpath(srv, "{.status.containerStatuses[0].containerID}", "get", "pod", "web"))
		assert.Equal(t, "0", jsonpath(srv, "{.status.containerStatuses[0].restartCount}", "get", "pod", "web"))
	})
	t.Run("the admin kubeconfig and the token pin the new CA", func(t *testing.T) {
		testutil.Eventually(t, time.Minute, 2*time.Second, "the admin kubeconfig rewritten", func() error {
			b, _ := os.ReadFile(srv.Kubeconfig)
			if bytes.Equal(b, mustRead(t, oldKubeconfig)) {
				return fmt.Errorf("unchanged")
			}
			return nil
		})
		srv.MustKubectl("get", "nodes")
		tok, err := token.Parse(string(mustRead(t, filepath.Join(srv.DataDir, "server", "token"))))
		require.NoError(t, err)
		assert.Equal(t, token.CAHash(mustRead(t, serverCA)), tok.CAHash)
	})
	t.Run("restarts: the agent rejoins with the token made before the rotation", func(t *testing.T) {
		old, err := token.Parse(a.JoinToken)
		require.NoError(t, err)
		require.NotEqual(t, token.CAHash(mustRead(t, serverCA)), old.CAHash, "the test must use a pre-rotation token")
		srv.Restart()
		srv.WaitReady(3 * time.Minute)
		a.Stop()
		a.Start()
		a.WaitReady(3 * time.Minute)
		srv.WaitNodeReady(3 * time.Minute)
		assert.Equal(t, containerID, jsonpath(srv, "{.status.containerStatuses[0].containerID}", "get", "pod", "web"))
		assert.NotContains(t, a.LogTail(400), "starting the node on its cached configuration", "the agent reached the server")
	})
	t.Run("a second rotation ends the first CA's overlap", func(t *testing.T) {
		third := rotateCA(t, srv)
		require.NotEqual(t, secondCA, third)
		testutil.Eventually(t, 2*time.Minute, 2*time.Second, "the old kubeconfig's credentials are refused", func() error {
			if out, err := srv.Kubectl("--kubeconfig", oldKubeconfig, "get", "nodes"); err == nil {
				return fmt.Errorf("still accepted: %s", out)
			}
			return nil
		})
		testutil.Eventually(t, 2*time.Minute, 2*time.Second, "the agent on the third CA, logs through the tunnel", func() error {
			if issuer := servingIssuer(t, "127.0.0.1:10250"); issuer != third {
				return fmt.Errorf("kubelet serving certificate issued by %s", issuer)
			}
			_, err := srv.Kubectl("logs", "web")
			return err
		})
		srv.WaitNodeReady(time.Minute)
		assert.Equal(t, containerID, jsonpath(srv, "{.status.containerStatuses[0].containerID}", "get", "pod", "web"))
	})
	t.Run("bad input", func(t *testing.T) {
		res := testutil.RunWren(t, time.Minute, nil, "certificate", "rotate-ca", "--data-dir", srv.DataDir, "--path", t.TempDir())
		assert.NotZero(t, res.ExitCode)
		assert.Contains(t, res.Stderr, "--path")
		assert.Contains(t, res.Stderr, "server-ca.crt")
		res = testutil.RunWren(t, time.Minute, nil, "certificate", "rotate-ca", "--data-dir", a.DataDir)
		assert.NotZero(t, res.ExitCode)
		assert.Contains(t, res.Stderr, "no server CA key")
		srv.MustKubectl("get", "nodes") // nothing was changed by the refused runs
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
