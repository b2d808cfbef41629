//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// TestUpgradeAndRollback runs a node on the previous release (wren built at
// the parent commit), switches the same data dir to this build and back:
// the pod keeps running through both switches and every object is kept.
func TestUpgradeAndRollback(t *testing.T) {
	prev := testutil.PreviousBinary(t)
	s := testutil.NewNode(t, "--disable", "coredns,metrics-server,local-storage,servicelb,helm-controller")
	s.Bin = prev
	s.Start()
	s.WaitReady(3 * time.Minute)
	s.WaitNodeReady(3 * time.Minute)
	_, err := s.KubectlStdin(agentPod, "apply", "-f", "-")
	require.NoError(t, err)
	waitPod(t, s, "web", "{.status.containerStatuses[0].ready}", "true")
	containerID := jsonpath(s, "{.status.containerStatuses[0].containerID}", "get", "pod", "web")
	s.MustKubectl("create", "configmap", "before-upgrade", "--from-literal=k=v1")
	s.MustKubectl("create", "secret", "generic", "kept", "--from-literal=k=s1")

	podKept := func(stage string) {
		t.Helper()
		assert.Equal(t, containerID, jsonpath(s, "{.status.containerStatuses[0].containerID}", "get", "pod", "web"), stage)
		assert.Equal(t, "0", jsonpath(s, "{.status.containerStatuses[0].restartCount}", "get", "pod", "web"), stage)
		out, err := s.Crictl("ps", "-q", "--name", "web", "--state", "Running")
		require.NoError(t, err)
		assert.NotEmpty(t, strings.TrimSpace(out), "%s: the container is not running", stage)
	}
	payload := func() string {
		t.Helper()
		link, err := os.Readlink(filepath.Join(s.DataDir, "data", "current"))
		require.NoError(t, err)
		return link
	}
	prevPayload := payload()

	// Upgrade: this build on the same data dir.
	s.Stop()
	s.Bin = ""
	s.Start()
	s.WaitReady(3 * time.Minute)
	s.WaitNodeReady(3 * time.Minute)
	podKept("after the upgrade")
	assert.Equal(t, "v1", jsonpath(s, "{.data.k}", "get", "configmap", "before-upgrade"))
	assert.Equal(t, "czE=", jsonpath(s, "{.data.k}", "get", "secret", "kept"))
	if cur := payload(); cur != prevPayload {
		// A new payload was switched in; the previous one stays for a rollback.
		prevLink, err := os.Readlink(filepath.Join(s.DataDir, "data", "previous"))
		require.NoError(t, err)
		assert.Equal(t, prevPayload, prevLink)
	}
	s.MustKubectl("create", "configmap", "after-upgrade", "--from-literal=k=v2")

	// Rollback by one release.
	s.Stop()
	s.Bin = prev
	s.Start()
	s.WaitReady(3 * time.Minute)
	s.WaitNodeReady(3 * time.Minute)
	podKept("after the rollback")
	assert.Equal(t, "v1", jsonpath(s, "{.data.k}", "get", "configmap", "before-upgrade"))
	assert.Equal(t, "v2", jsonpath(s, "{.data.k}", "get", "configmap", "after-upgrade"))
	assert.Equal(t, prevPayload, payload(), "the rollback runs the previous payload")
}
