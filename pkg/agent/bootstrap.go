// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/kubeconfig"
	"github.com/wren-k8s/wren/pkg/nodecert"
	"github.com/wren-k8s/wren/pkg/pki"
)

// bootstrap is the component that obtains the node's credentials and writes
// the kubeconfigs of the kubelet, kube-proxy and flannel.
type bootstrap struct {
	creds    Credentials
	node     NodeIdentity
	files    Files
	agentDir string
	apiURL   string
	log      *slog.Logger
	component.Task
}

var (
	_ component.Component = (*bootstrap)(nil)
	_ component.Exiter    = (*bootstrap)(nil)
)

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
	b.Go(ctx, b.renew)
	return nil
}

// renew asks for new certificates when one of the node's is due or the
// server's CA bundle changed: the kubelet, kube-proxy and flannel re-read
// the files (certificates and CA bundles), so nothing restarts.
func (b *bootstrap) renew(ctx context.Context) error {
	return pki.EveryRenewInterval(ctx, func() {
		due := false
		for _, kind := range nodecert.Kinds {
			cert, _ := b.files.Cert(kind)
			due = due || pki.NeedsRenewal(cert, time.Now())
		}
		if !due && !b.creds.CAChanged(ctx, b.files) {
			return
		}
		if err := b.creds.Issue(ctx, b.node, b.files); err != nil {
			b.log.Error("renewing the node's certificates failed; retrying", "err", err, "in", pki.RenewInterval())
			return
		}
		b.log.Info("renewed the node's certificates")
	})
}

func (b *bootstrap) Ready(context.Context) error { return nil }

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
