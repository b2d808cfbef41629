// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/kubeconfig"
)

// bootstrap is the component that obtains the node's credentials and writes
// the kubeconfigs of the kubelet, kube-proxy and flannel.
type bootstrap struct {
	creds    Credentials
	node     NodeIdentity
	files    Files
	agentDir string
	apiURL   string
}

var _ component.Component = (*bootstrap)(nil)

func (b *bootstrap) Name() string { return "node-credentials" }

func (b *bootstrap) Start(ctx context.Context) error {
	if err := os.MkdirAll(b.files.Dir, 0o700); err != nil {
		return err
	}
	if err := b.creds.Issue(ctx, b.node, b.files); err != nil {
		return fmt.Errorf("node credentials: %w", err)
	}
	kc, kk := b.files.KubeletClient()
	pc, pk := b.files.KubeProxy()
	cc, ck := b.files.Controller()
	for path, spec := range map[string]kubeconfig.Spec{
		kubeletKubeconfig(b.agentDir):    {Server: b.apiURL, CAFile: b.files.ServerCA(), CertFile: kc, KeyFile: kk},
		kubeProxyKubeconfig(b.agentDir):  {Server: b.apiURL, CAFile: b.files.ServerCA(), CertFile: pc, KeyFile: pk},
		controllerKubeconfig(b.agentDir): {Server: b.apiURL, CAFile: b.files.ServerCA(), CertFile: cc, KeyFile: ck},
	} {
		if err := kubeconfig.Write(path, spec, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (b *bootstrap) Ready(context.Context) error { return nil }
func (b *bootstrap) Stop(context.Context) error  { return nil }

// The kubeconfigs the bootstrap writes into the agent directory.
func kubeletKubeconfig(agentDir string) string { return filepath.Join(agentDir, "kubelet.kubeconfig") }
func kubeProxyKubeconfig(agentDir string) string {
	return filepath.Join(agentDir, "kubeproxy.kubeconfig")
}
func controllerKubeconfig(agentDir string) string {
	return filepath.Join(agentDir, "wren-controller.kubeconfig")
}

// nodeIPs lists the node's addresses for its serving certificate.
func nodeIPs(ip netip.Addr) []netip.Addr {
	ips := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	if ip.IsValid() && ip != ips[0] {
		ips = append(ips, ip)
	}
	return ips
}
