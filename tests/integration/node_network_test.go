//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// TestNodeNftablesHostGW runs the other pod network and service proxy
// options: flannel host-gw and kube-proxy in nftables mode.
func TestNodeNftablesHostGW(t *testing.T) {
	s := testutil.StartNode(t, "--flannel-backend", "host-gw", "--kube-proxy-arg", "proxy-mode=nftables")
	out, err := s.KubectlStdin(strings.Replace(webYAML, "replicas: 3", "replicas: 2", 1), "apply", "-f", "-")
	require.NoError(t, err, out)
	s.MustKubectl("rollout", "status", "deployment/web", "--timeout=180s")
	clusterIP := jsonpath(s, "{.spec.clusterIP}", "get", "service", "web")
	nodePort := jsonpath(s, "{.spec.ports[0].nodePort}", "get", "service", "web")
	nodeIP := jsonpath(s, `{.items[0].status.addresses[?(@.type=="InternalIP")].address}`, "get", "nodes")
	for _, url := range []string{"http://" + clusterIP + "/hostname", fmt.Sprintf("http://%s:%s/hostname", nodeIP, nodePort)} {
		testutil.Eventually(t, 60*time.Second, 500*time.Millisecond, url, func() error {
			_, err := httpGet(url)
			return err
		})
	}
	// kube-proxy programmed nftables, not iptables.
	nft := testutil.Run(t, "nft", "list", "table", "ip", "kube-proxy")
	assert.Contains(t, nft, clusterIP)
	// host-gw: no vxlan device.
	links := testutil.Run(t, "ip", "-o", "link")
	assert.NotContains(t, links, "flannel.1")
}
