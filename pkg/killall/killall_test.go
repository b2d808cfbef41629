// SPDX-License-Identifier: Apache-2.0

package killall

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOurRuleKeepsOthers(t *testing.T) {
	t.Parallel()
	ours := []string{
		":KUBE-SERVICES - [0:0]",
		"-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
		"-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD",
		":CNI-HOSTPORT-DNAT - [0:0]",
		"-A POSTROUTING -s 10.42.0.0/16 -j FLANNEL-POSTRTG",
	}
	theirs := []string{
		"*filter", ":FORWARD DROP [0:0]", "-A FORWARD -j DOCKER-USER",
		"-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE", "COMMIT",
	}
	for _, l := range ours {
		assert.True(t, ourRule(l), l)
	}
	for _, l := range theirs {
		assert.False(t, ourRule(l), l)
	}
}

func TestIsWrenDaemon(t *testing.T) {
	t.Parallel()
	assert.True(t, isWrenDaemon("/usr/local/bin/wren server --data-dir /x "))
	assert.True(t, isWrenDaemon("/usr/local/bin/wren containerd --config /x "))
	assert.False(t, isWrenDaemon("/usr/local/bin/wren kubectl get pods "))
	assert.False(t, isWrenDaemon("/usr/local/bin/wren killall "))
}
