// SPDX-License-Identifier: Apache-2.0

package control

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"

	"k8s.io/client-go/rest"
	cmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	cmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/cliargs"
	"github.com/wren-k8s/wren/pkg/internal/healthz"
	"github.com/wren-k8s/wren/pkg/pki"
)

// ControllerManagerConfig is what kube-controller-manager needs.
type ControllerManagerConfig struct {
	APIURL      string
	Certs       pki.Paths
	CredDir     string
	ClusterCIDR netip.Prefix
	ServiceCIDR netip.Prefix
	Port        int
	LeaderElect bool
	ExtraArgs   []string
}

// ControllerManager runs kube-controller-manager in-process.
type ControllerManager struct {
	cfg   ControllerManagerConfig
	log   *slog.Logger
	ready *healthz.Probe
	component.Task
}

var (
	_ component.Component = (*ControllerManager)(nil)
	_ component.Exiter    = (*ControllerManager)(nil)
)

// NewControllerManager returns the kube-controller-manager component.
func NewControllerManager(cfg ControllerManagerConfig, log *slog.Logger) *ControllerManager {
	return &ControllerManager{cfg: cfg, log: log}
}

// Name implements component.Component.
func (c *ControllerManager) Name() string { return "kube-controller-manager" }

func (c *ControllerManager) args(kubeconfig string) map[string]string {
	p := c.cfg.Certs
	return map[string]string{
		"allocate-node-cidrs":       "true",
		"authentication-kubeconfig": kubeconfig,
		"authorization-kubeconfig":  kubeconfig,
		"bind-address":              "127.0.0.1",
		"cluster-cidr":              c.cfg.ClusterCIDR.String(),
		"cluster-signing-kube-apiserver-client-cert-file": pki.NoChain(p.ClientCA()),
		"cluster-signing-kube-apiserver-client-key-file":  p.ClientCAKey(),
		"cluster-signing-kubelet-client-cert-file":        pki.NoChain(p.ClientCA()),
		"cluster-signing-kubelet-client-key-file":         p.ClientCAKey(),
		"cluster-signing-kubelet-serving-cert-file":       pki.NoChain(p.ServerCA()),
		"cluster-signing-kubelet-serving-key-file":        p.ServerCAKey(),
		"cluster-signing-legacy-unknown-cert-file":        pki.NoChain(p.ServerCA()),
		"cluster-signing-legacy-unknown-key-file":         p.ServerCAKey(),
		"configure-cloud-routes":                          "false",
		"controllers":                                     "*,tokencleaner",
		"kubeconfig":                                      kubeconfig,
		"leader-elect":                                    strconv.FormatBool(c.cfg.LeaderElect),
		"profiling":                                       "false",
		"root-ca-file":                                    p.ServerCA(),
		"secure-port":                                     strconv.Itoa(c.cfg.Port),
		"service-account-private-key-file":                p.ServiceAccountKey(),
		"service-cluster-ip-range":                        c.cfg.ServiceCIDR.String(),
		"use-service-account-credentials":                 "true",
	}
}

// Start writes the component's kubeconfig and runs the controllers.
func (c *ControllerManager) Start(ctx context.Context) error {
	kubeconfig, err := writeComponentKubeconfig(c.cfg.CredDir, "controller", c.cfg.APIURL, c.cfg.Certs, pki.ClientControllerManager)
	if err != nil {
		return err
	}
	s, err := cmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return err
	}
	known, disabled, aliases := cmapp.KnownControllers(), cmapp.ControllersDisabledByDefault(), cmapp.ControllerAliases()
	sets := s.Flags(known, disabled, aliases)
	s.ParsedFlags = &sets
	if err := parseInto("kube-controller-manager", sets, cliargs.Render(c.args(kubeconfig), c.cfg.ExtraArgs)); err != nil {
		return err
	}
	if err := s.ComponentGlobalsRegistry.Set(); err != nil {
		return fmt.Errorf("kube-controller-manager feature gates: %w", err)
	}
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	config, err := s.Config(ctx, known, disabled, aliases)
	if err != nil {
		return portInUse(fmt.Errorf("kube-controller-manager config: %w", err), "--kube-controller-manager-arg=secure-port", c.cfg.Port)
	}
	if c.cfg.Port > 0 {
		c.ready = healthz.NewLoopbackTLS(c.cfg.Port, "/healthz")
	}
	completed := config.Complete()
	c.Go(ctx, func(ctx context.Context) error { return cmapp.Run(ctx, completed) })
	return nil
}

// Ready returns nil once /healthz answers.
func (c *ControllerManager) Ready(ctx context.Context) error {
	if c.ready == nil {
		return nil
	}
	return c.ready.Check(ctx)
}
