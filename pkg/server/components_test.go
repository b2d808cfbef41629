// SPDX-License-Identifier: Apache-2.0

package server

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
)

// names lists the components' names; a Parallel entry is its lists'
// names between "(" and ")", the lists separated by "|".
func names(cs []component.Component) []string {
	var out []string
	for _, c := range cs {
		if p, ok := c.(*component.Parallel); ok {
			out = append(out, "(")
			for i, l := range p.Lists {
				if i > 0 {
					out = append(out, "|")
				}
				out = append(out, names(l)...)
			}
			out = append(out, ")")
			continue
		}
		out = append(out, c.Name())
	}
	return out
}

func TestComponentOrder(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	controlPlane := []string{"kine", "secrets-encryption", "egress", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "rbac",
		"node-password-cleaner", "cloud-node-controller", "admin-kubeconfig", "helm-controller", "deploy", "servicelb", "coredns-nodehosts", "local-path-provisioner"}
	tests := []struct {
		name   string
		mutate func(*config.Server)
		want   []string
	}{
		{"control plane only", func(s *config.Server) { s.DisableAgent = true }, concat([]string{"pki", "token"}, controlPlane)},
		{"with a node", nil, concat([]string{"pki", "token", "("}, controlPlane, []string{"|", "host", "payload", "containerd", "images", ")",
			"node-credentials", "(", "kubelet", "node-addresses", "kube-proxy", "|", "flannel", ")", "node-role"})},
		{"no helm controller", func(s *config.Server) { s.DisableAgent = true; s.Disable = []string{"helm-controller"} },
			[]string{"pki", "token", "kine", "secrets-encryption", "egress", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "rbac",
				"node-password-cleaner", "cloud-node-controller", "admin-kubeconfig", "deploy", "servicelb", "coredns-nodehosts", "local-path-provisioner"}},
		{"no flannel, no kube-proxy", func(s *config.Server) { s.Agent.FlannelBackend = "none"; s.Agent.DisableKubeProxy = true },
			concat([]string{"pki", "token", "("}, controlPlane, []string{"|", "host", "payload", "containerd", "images", ")",
				"node-credentials", "kubelet", "node-addresses", "node-role"})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.DefaultServer()
			cfg.DataDir = t.TempDir()
			if tc.mutate != nil {
				tc.mutate(cfg)
			}
			require.NoError(t, cfg.Complete())
			cs, err := Components(cfg, log)
			require.NoError(t, err)
			assert.Equal(t, tc.want, names(cs))
		})
	}
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
