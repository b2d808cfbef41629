//go:build e2e

// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostGW is a server and one agent with flannel's host-gw backend
// (the nodes share the Docker network, one L2 segment): each node routes the
// other's pod CIDR to the other's address, no vxlan device, and pods reach
// each other and a Service across the nodes.
func TestHostGW(t *testing.T) {
	c := NewCluster(t)
	c.StartServer("--flannel-backend", "host-gw")
	c.WaitNodesReady(3*time.Minute, "True", "server")
	a := c.StartAgent("agent-1", c.Token)
	c.WaitNodesReady(4*time.Minute, "True", "agent-1")
	pods := c.runDaemonSet("server", "agent-1")

	for _, pair := range [][2]*Node{{c.Server, a}, {a, c.Server}} {
		from, to := pair[0], pair[1]
		cidr := c.MustKubectl("get", "node", to.Name, "-o", "jsonpath={.spec.podCIDR}")
		routes, err := c.Exec(from, "ip", "route", "show", cidr)
		require.NoError(t, err)
		assert.Contains(t, routes, "via "+to.IP, "%s routes %s's pods to its address", from.Name, to.Name)
		_, err = c.Exec(from, "ip", "link", "show", "flannel.1")
		assert.Error(t, err, "no vxlan device on %s", from.Name)
	}
	for from, src := range pods {
		for to, dst := range pods {
			out, err := c.Kubectl("exec", src.name, "-c", "toolbox", "--", "/toolbox", "get", "http://"+dst.ip+":8080/hostname")
			assert.NoError(t, err, "%s → %s", from, to)
			assert.Equal(t, dst.name, strings.TrimSpace(out), "%s → %s", from, to)
		}
		out, err := c.Kubectl("exec", src.name, "-c", "toolbox", "--", "/toolbox", "get", "http://everywhere.default.svc.cluster.local/hostname")
		assert.NoError(t, err, "Service from %s", from)
		assert.NotEmpty(t, strings.TrimSpace(out))
	}
}
