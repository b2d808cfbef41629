// SPDX-License-Identifier: Apache-2.0

package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/pflag"
	proxyapp "k8s.io/kubernetes/cmd/kube-proxy/app"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/cliargs"
	"github.com/wren-k8s/wren/pkg/internal/healthz"
)

// KubeProxyConfig is what kube-proxy needs.
type KubeProxyConfig struct {
	NodeName    string
	Kubeconfig  string
	ClusterCIDR string
	ExtraArgs   []string
	Host        HostInfo
}

// KubeProxy runs kube-proxy in-process, in iptables mode unless
// --kube-proxy-arg=proxy-mode=nftables.
type KubeProxy struct {
	cfg    KubeProxyConfig
	log    *slog.Logger
	cancel context.CancelFunc
	exited chan error
}

var (
	_ component.Component = (*KubeProxy)(nil)
	_ component.Exiter    = (*KubeProxy)(nil)
)

// NewKubeProxy returns the kube-proxy component.
func NewKubeProxy(cfg KubeProxyConfig, log *slog.Logger) *KubeProxy {
	return &KubeProxy{cfg: cfg, log: log, exited: make(chan error, 1)}
}

// Name implements component.Component.
func (p *KubeProxy) Name() string { return "kube-proxy" }

// args are wren's kube-proxy flags. Conntrack sizes and timeouts are left to
// the kernel (0 = do not write the sysctls).
func (p *KubeProxy) args() map[string]string {
	oom := "-999"
	if !p.cfg.Host.CanLowerOOMScore {
		oom = "0"
	}
	return map[string]string{
		"proxy-mode":                        "iptables",
		"cluster-cidr":                      p.cfg.ClusterCIDR,
		"hostname-override":                 p.cfg.NodeName,
		"kubeconfig":                        p.cfg.Kubeconfig,
		"oom-score-adj":                     oom,
		"conntrack-max-per-core":            "0",
		"conntrack-min":                     "0",
		"conntrack-tcp-timeout-established": "0s",
		"conntrack-tcp-timeout-close-wait":  "0s",
		"healthz-bind-address":              "127.0.0.1:10256",
		"metrics-bind-address":              "127.0.0.1:10249",
	}
}

// Start builds kube-proxy from its options and runs it.
func (p *KubeProxy) Start(ctx context.Context) error {
	opts := proxyapp.NewOptions()
	fs := pflag.NewFlagSet("kube-proxy", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts.AddFlags(fs)
	if err := fs.Parse(cliargs.Render(p.args(), p.cfg.ExtraArgs)); err != nil {
		return fmt.Errorf("--kube-proxy-arg: %w", err)
	}
	if err := opts.Complete(fs); err != nil {
		return fmt.Errorf("kube-proxy: %w", err)
	}
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("kube-proxy: %w", err)
	}
	ctx, p.cancel = context.WithCancel(ctx)
	go func() {
		if err := opts.Run(ctx); err != nil && ctx.Err() == nil {
			p.exited <- fmt.Errorf("kube-proxy: %w", err)
		}
	}()
	return nil
}

// Ready returns nil once kube-proxy's health endpoint reports a recent sync.
func (p *KubeProxy) Ready(ctx context.Context) error {
	return healthz.NewHTTP("http://127.0.0.1:10256/healthz").Check(ctx)
}

// Exited implements component.Exiter.
func (p *KubeProxy) Exited() <-chan error { return p.exited }

// Stop cancels kube-proxy's context and returns at once.
//
// NOTE: kube-proxy's Run does not return when its context ends (its informers
// and sync loop use wait.NeverStop). Its rules must stay in place for the
// running pods anyway; the goroutines end with the process.
func (p *KubeProxy) Stop(context.Context) error {
	if p.cancel != nil {
		p.cancel()
	}
	return nil
}
