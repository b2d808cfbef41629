// SPDX-License-Identifier: Apache-2.0

package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flannel-io/flannel/pkg/backend"
	_ "github.com/flannel-io/flannel/pkg/backend/hostgw" // registers "host-gw"
	_ "github.com/flannel-io/flannel/pkg/backend/vxlan"  // registers "vxlan"
	"github.com/flannel-io/flannel/pkg/ipmatch"
	"github.com/flannel-io/flannel/pkg/subnet/kube"
	"github.com/flannel-io/flannel/pkg/trafficmngr/iptables"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// FlannelConfig is what flannel needs.
type FlannelConfig struct {
	NodeName    string
	NodeIP      string
	Iface       string // --flannel-iface; the node IP's interface when empty
	Backend     string // vxlan or host-gw
	ClusterCIDR string
	Kubeconfig  string
	// EtcDir receives net-conf.json; CNIConfDir the CNI network config;
	// SubnetFile the lease (FLANNEL_SUBNET, FLANNEL_MTU ...).
	EtcDir     string
	CNIConfDir string
	SubnetFile string
	CNIDataDir string
}

// Flannel runs flannel in-process: it waits for the node's PodCIDR, sets up
// the overlay (vxlan) or routes (host-gw), the masquerade and forward rules,
// and writes the CNI config that lets the kubelet start pods.
type Flannel struct {
	cfg    FlannelConfig
	log    *slog.Logger
	ready  atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
	exited chan error
}

var (
	_ component.Component = (*Flannel)(nil)
	_ component.Exiter    = (*Flannel)(nil)
)

// NewFlannel returns the flannel component.
func NewFlannel(cfg FlannelConfig, log *slog.Logger) *Flannel {
	return &Flannel{cfg: cfg, log: log, exited: make(chan error, 1)}
}

// Name implements component.Component.
func (f *Flannel) Name() string { return "flannel" }

// Start writes flannel's network config and launches it.
func (f *Flannel) Start(ctx context.Context) error {
	netConf := filepath.Join(f.cfg.EtcDir, "net-conf.json")
	conf, _ := json.Marshal(map[string]any{"Network": f.cfg.ClusterCIDR, "Backend": map[string]string{"Type": f.cfg.Backend}})
	if err := atomicfile.Write(netConf, conf, 0o644); err != nil {
		return err
	}
	// NOTE: flannel's kube subnet manager takes the node name only from $NODE_NAME.
	if err := os.Setenv("NODE_NAME", f.cfg.NodeName); err != nil {
		return err
	}
	ctx, f.cancel = context.WithCancel(ctx)
	f.done = make(chan struct{})
	go func() {
		defer close(f.done)
		if err := f.run(ctx, netConf); err != nil && ctx.Err() == nil {
			f.exited <- err
		}
	}()
	return nil
}

func (f *Flannel) run(ctx context.Context, netConf string) error {
	if err := f.waitForPodCIDR(ctx); err != nil {
		return err
	}
	sm, err := kube.NewSubnetManager(ctx, "", f.cfg.Kubeconfig, "flannel.alpha.coreos.com", netConf, true)
	if err != nil {
		return fmt.Errorf("flannel subnet manager: %w", err)
	}
	config, err := sm.GetNetworkConfig(ctx)
	if err != nil {
		return fmt.Errorf("flannel network config: %w", err)
	}
	stack, err := ipmatch.GetIPFamily(config.EnableIPv4, config.EnableIPv6)
	if err != nil {
		return err
	}
	iface := f.cfg.Iface
	if iface == "" {
		iface = f.cfg.NodeIP
	}
	ext, err := ipmatch.LookupExtIface(iface, "", "", stack, ipmatch.PublicIPOpts{})
	if err != nil {
		return fmt.Errorf("flannel interface %q: %w", iface, err)
	}
	be, err := backend.NewManager(ctx, sm, ext).GetBackend(config.BackendType)
	if err != nil {
		return fmt.Errorf("flannel backend %q: %w", config.BackendType, err)
	}
	var wg sync.WaitGroup
	network, err := be.RegisterNetwork(ctx, &wg, config)
	if err != nil {
		return fmt.Errorf("flannel %s network: %w", config.BackendType, err)
	}
	lease := network.Lease()
	rules := &iptables.IPTablesManager{}
	if err := rules.Init(ctx); err != nil {
		return err
	}
	if err := rules.SetupAndEnsureMasqRules(ctx, config.Network, lease.Subnet, config.Network,
		config.IPv6Network, lease.IPv6Subnet, config.IPv6Network, lease, 5, false); err != nil {
		return fmt.Errorf("flannel masquerade rules: %w", err)
	}
	rules.SetupAndEnsureForwardRules(ctx, config.Network, config.IPv6Network, 5)
	if err := sm.HandleSubnetFile(f.cfg.SubnetFile, config, true, lease.Subnet, lease.IPv6Subnet, network.MTU()); err != nil {
		return fmt.Errorf("flannel subnet file: %w", err)
	}
	cni, err := RenderCNIConfig(lease.Subnet.String(), f.cfg.ClusterCIDR, network.MTU(), f.cfg.CNIDataDir)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(f.cfg.CNIConfDir, "10-flannel.conflist"), cni, 0o644); err != nil {
		return err
	}
	f.log.Info("pod network ready", "backend", config.BackendType, "subnet", lease.Subnet.String(), "mtu", network.MTU())
	f.ready.Store(true)
	wg.Add(1)
	go func() { defer wg.Done(); network.Run(ctx) }()
	if err := sm.CompleteLease(ctx, lease, &wg); err != nil {
		f.log.Warn("flannel could not mark the node's network available", "err", err)
	}
	wg.Wait()
	return nil
}

// waitForPodCIDR polls until the controller-manager gave the node a PodCIDR;
// flannel gives up at once without one.
func (f *Flannel) waitForPodCIDR(ctx context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", f.cfg.Kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for {
		n, err := cs.CoreV1().Nodes().Get(ctx, f.cfg.NodeName, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Ready returns nil once the CNI config is written.
func (f *Flannel) Ready(context.Context) error {
	if !f.ready.Load() {
		return fmt.Errorf("waiting for the node's PodCIDR and the pod network")
	}
	return nil
}

// Exited implements component.Exiter.
func (f *Flannel) Exited() <-chan error { return f.exited }

// Stop ends flannel's watch loops; the device, routes and rules stay for
// the running pods.
func (f *Flannel) Stop(ctx context.Context) error {
	if f.cancel == nil {
		return nil
	}
	f.cancel()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RenderCNIConfig returns the CNI network config for the node's pod subnet:
// what flannel's own CNI plugin would hand to the bridge plugin, plus
// portmap (hostPort) and bandwidth, as k3s has it. No firewall plugin:
// flannel's FLANNEL-FWD rules already accept the cluster CIDR in FORWARD,
// and the plugin's own per-pod rules cost about ten iptables runs per pod,
// serialised on the xtables lock, when many pods start at once. (The
// firewall binary stays in the payload for users' own network configs.)
func RenderCNIConfig(subnet, clusterCIDR string, mtu int, ipamDir string) ([]byte, error) {
	conf := map[string]any{
		"name":       "cbr0",
		"cniVersion": "1.0.0",
		"plugins": []map[string]any{
			{
				"type":             "bridge",
				"bridge":           "cni0",
				"isDefaultGateway": true,
				"ipMasq":           false, // flannel's own rules masquerade
				"hairpinMode":      true,
				"forceAddress":     true,
				"mtu":              mtu,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": ipamDir,
					"ranges":  [][]map[string]string{{{"subnet": subnet}}},
					"routes":  []map[string]string{{"dst": clusterCIDR}},
				},
			},
			{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
			{"type": "bandwidth", "capabilities": map[string]bool{"bandwidth": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}
