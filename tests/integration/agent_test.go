//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

const agentPod = `
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - {name: web, image: ` + testutil.AgnhostImage + `, imagePullPolicy: Never, args: [netexec, --http-port=8080]}
`

// TestAgentRestartWhileServerDown joins an agent on this host to a
// control-plane-only server, then restarts the agent while the server is
// down: it must start on its cached credentials, keep the pod's container
// running, and come back fully (logs through the tunnel) when the server
// returns (k3s#1686). The agent joins with a bootstrap token that is deleted
// once it has joined: its restarts get in with its node certificate.
func TestAgentRestartWhileServerDown(t *testing.T) {
	srv := testutil.StartServer(t, "--disable", "coredns,metrics-server,local-storage,servicelb,helm-controller")
	res := testutil.RunWren(t, time.Minute, nil, "token", "create", "--ttl", "1h", "--kubeconfig", srv.Kubeconfig)
	require.Zero(t, res.ExitCode, res.Stderr)
	a := testutil.NewAgent(t, srv, strings.TrimSpace(res.Stdout), "--node-name", "wren-agent")
	a.Start()
	a.WaitReady(3 * time.Minute)
	srv.WaitNodeReady(3 * time.Minute)
	res = testutil.RunWren(t, time.Minute, nil, "token", "delete", strings.TrimSpace(a.JoinToken), "--kubeconfig", srv.Kubeconfig)
	require.Zero(t, res.ExitCode, res.Stderr)
	_, err := srv.KubectlStdin(agentPod, "apply", "-f", "-")
	require.NoError(t, err)
	waitPod(t, srv, "web", "{.status.containerStatuses[0].ready}", "true")
	containerID := jsonpath(srv, "{.status.containerStatuses[0].containerID}", "get", "pod", "web")
	assert.Contains(t, srv.MustKubectl("logs", "web"), "Started HTTP server on port 8080", "logs through the tunnel")

	srv.Stop()
	a.Stop()
	a.Start()
	testutil.Eventually(t, 2*time.Minute, time.Second, "agent starts on its cached configuration", func() error {
		if !strings.Contains(a.LogTail(400), "server unreachable: starting the node on its cached configuration") {
			return errors.New("not yet")
		}
		return nil
	})
	out, err := a.Crictl("ps", "-q", "--name", "web", "--state", "Running")
	require.NoError(t, err)
	assert.Contains(t, containerID, strings.TrimSpace(out), "the pod's container keeps running while the server is away")
	require.NotEmpty(t, strings.TrimSpace(out))

	srv.Start()
	srv.WaitReady(3 * time.Minute)
	a.WaitReady(3 * time.Minute)
	srv.WaitNodeReady(3 * time.Minute)
	assert.Equal(t, containerID, jsonpath(srv, "{.status.containerStatuses[0].containerID}", "get", "pod", "web"))
	assert.Equal(t, "0", jsonpath(srv, "{.status.containerStatuses[0].restartCount}", "get", "pod", "web"))
	testutil.Eventually(t, time.Minute, time.Second, "logs through the tunnel again", func() error {
		_, err := srv.Kubectl("logs", "web")
		return err
	})

	// A restart with the server up: the token is gone, the server token was
	// rotated, the node certificate lets the agent in, and the pod is untouched.
	res = testutil.RunWren(t, time.Minute, nil, "token", "rotate", "--data-dir", srv.DataDir, "--server", fmt.Sprintf("https://127.0.0.1:%d", srv.Port))
	require.Zero(t, res.ExitCode, res.Stderr)
	a.Stop()
	a.Start()
	a.WaitReady(3 * time.Minute)
	srv.WaitNodeReady(3 * time.Minute)
	assert.Equal(t, containerID, jsonpath(srv, "{.status.containerStatuses[0].containerID}", "get", "pod", "web"))
	assert.Equal(t, "0", jsonpath(srv, "{.status.containerStatuses[0].restartCount}", "get", "pod", "web"))

	// `wren certificate check` lists the server's and the agent's certificates, all fresh.
	for dir, want := range map[string]string{srv.DataDir: "server/tls/server-ca.crt", a.DataDir: "agent/tls/"} {
		res := testutil.RunWren(t, time.Minute, nil, "certificate", "check", "--data-dir", dir)
		require.Zero(t, res.ExitCode, res.Stderr)
		assert.Contains(t, res.Stdout, want)
		assert.Regexp(t, `(?m)^FILE\s+SUBJECT`, res.Stdout)
		assert.NotContains(t, res.Stdout, "WARNING")
		assert.NotContains(t, res.Stdout, "EXPIRED")
		assert.GreaterOrEqual(t, strings.Count(res.Stdout, " OK\n"), 3, res.Stdout)
	}
	res = testutil.RunWren(t, time.Minute, nil, "certificate", "check", "--data-dir", t.TempDir())
	assert.NotZero(t, res.ExitCode)
	assert.Contains(t, res.Stderr, "no certificates under")
}
