//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// servingExpiry is the NotAfter of the certificate served at addr.
func servingExpiry(t *testing.T, addr string) time.Time {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only the certificate is read
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].NotAfter
}

// TestCertificateRenewalWhileRunning gives every leaf certificate two
// minutes: the server and its node must renew them while running, and
// everything — kubectl, the controllers, the scheduler, the kubelet, logs
// through the egress — must go on working past the first certificates'
// expiry, with no restart of wren or of the pod.
func TestCertificateRenewalWhileRunning(t *testing.T) {
	s := testutil.NewNode(t, "--disable", "coredns,metrics-server,local-storage,servicelb,helm-controller")
	s.Env = append(s.Env, "WREN_NEW_SIGNED_CERT_VALIDITY=2m")
	s.Start()
	s.WaitReady(3 * time.Minute)
	s.WaitNodeReady(3 * time.Minute)
	pid := s.PID()
	apiAddr, kubeletAddr := fmt.Sprintf("127.0.0.1:%d", s.Port), "127.0.0.1:10250"
	firstAPI, firstKubelet := servingExpiry(t, apiAddr), servingExpiry(t, kubeletAddr)
	require.Less(t, time.Until(firstAPI), 3*time.Minute, "the short validity was not applied")

	_, err := s.KubectlStdin(agentPod, "apply", "-f", "-")
	require.NoError(t, err)
	waitPod(t, s, "web", "{.status.containerStatuses[0].ready}", "true")
	containerID := jsonpath(s, "{.status.containerStatuses[0].containerID}", "get", "pod", "web")

	testutil.Eventually(t, 3*time.Minute, 2*time.Second, "serving certificates renewed", func() error {
		if api, kubelet := servingExpiry(t, apiAddr), servingExpiry(t, kubeletAddr); !api.After(firstAPI) || !kubelet.After(firstKubelet) {
			return fmt.Errorf("apiserver %s, kubelet %s", api, kubelet)
		}
		return nil
	})
	// Past the first certificates' expiry, and a bit: every client that
	// kept an old one would fail now.
	expired := firstAPI
	if firstKubelet.After(expired) {
		expired = firstKubelet
	}
	time.Sleep(time.Until(expired) + 15*time.Second)

	t.Run("the control plane works", func(t *testing.T) {
		s.MustKubectl("create", "namespace", "renewal")
		// Deletion completes only when the controller manager's namespace
		// controller runs.
		s.MustKubectl("delete", "namespace", "renewal", "--timeout=60s")
		assert.Contains(t, s.MustKubectl("get", "--raw", "/readyz"), "ok")
	})
	t.Run("the kubelet reports with a renewed client certificate", func(t *testing.T) {
		node := jsonpath(s, "{.items[0].metadata.name}", "get", "nodes")
		testutil.Eventually(t, time.Minute, 2*time.Second, "node lease renewed after the old expiry", func() error {
			renew, err := time.Parse(time.RFC3339Nano, jsonpath(s, "{.spec.renewTime}", "-n", "kube-node-lease", "get", "lease", node))
			if err != nil || !renew.After(expired) {
				return fmt.Errorf("lease renewed %s (old certificates expired %s): %v", renew, expired, err)
			}
			return nil
		})
	})
	t.Run("logs through the egress, a new pod scheduled and started", func(t *testing.T) {
		assert.Contains(t, s.MustKubectl("logs", "web"), "Started HTTP server on port 8080")
		_, err := s.KubectlStdin(strings.ReplaceAll(agentPod, "name: web", "name: web-2"), "apply", "-f", "-")
		require.NoError(t, err)
		waitPod(t, s, "web-2", "{.status.containerStatuses[0].ready}", "true")
	})
	t.Run("nothing restarted", func(t *testing.T) {
		assert.Equal(t, pid, s.PID(), "wren restarted")
		assert.Equal(t, containerID, jsonpath(s, "{.status.containerStatuses[0].containerID}", "get", "pod", "web"))
		assert.Equal(t, "0", jsonpath(s, "{.status.containerStatuses[0].restartCount}", "get", "pod", "web"))
		log, err := os.ReadFile(s.LogPath)
		require.NoError(t, err)
		assert.Contains(t, string(log), "renewed the node's certificates")
	})
	t.Run("certificate rotate renews on demand", func(t *testing.T) {
		before := servingExpiry(t, apiAddr)
		time.Sleep(time.Second) // a new expiry is a later second
		res := testutil.RunWren(t, time.Minute, nil, "certificate", "rotate", "--data-dir", s.DataDir)
		require.Zero(t, res.ExitCode, res.Stderr)
		assert.Contains(t, res.Stdout, "renewed "+filepath.Join("server", "tls", "serving-kube-apiserver.crt"))
		assert.Contains(t, res.Stdout, "renewed "+filepath.Join("agent", "tls"))
		testutil.Eventually(t, time.Minute, time.Second, "the apiserver serves the rotated certificate", func() error {
			if got := servingExpiry(t, apiAddr); !got.After(before) {
				return fmt.Errorf("still %s", got)
			}
			return nil
		})
		s.MustKubectl("get", "nodes")
		res = testutil.RunWren(t, time.Minute, nil, "certificate", "rotate", "--data-dir", t.TempDir())
		assert.NotZero(t, res.ExitCode)
		assert.Contains(t, res.Stderr, "no server CA key")
	})
}
