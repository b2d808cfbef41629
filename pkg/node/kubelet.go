// SPDX-License-Identifier: Apache-2.0

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	cliflag "k8s.io/component-base/cli/flag"
	kubeletapp "k8s.io/kubernetes/cmd/kubelet/app"
	kubeletoptions "k8s.io/kubernetes/cmd/kubelet/app/options"
	kubeletconfigvalidation "k8s.io/kubernetes/pkg/kubelet/apis/config/validation"
	"k8s.io/kubernetes/pkg/kubelet/eviction"
	"k8s.io/kubernetes/pkg/kubelet/kubeletconfig/configfiles"
	utilfs "k8s.io/kubernetes/pkg/util/filesystem"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/internal/cliargs"
	"github.com/wren-k8s/wren/pkg/internal/healthz"
)

// Kubelet runs the kubelet in-process from a KubeletConfiguration file
// rendered from wren's typed config; --kubelet-arg flags apply on top, with
// the same precedence as upstream's command line over its config file.
type Kubelet struct {
	cfg KubeletConfig
	log *slog.Logger
	component.Task
}

var (
	_ component.Component = (*Kubelet)(nil)
	_ component.Exiter    = (*Kubelet)(nil)
)

// NewKubelet returns the kubelet component.
func NewKubelet(cfg KubeletConfig, log *slog.Logger) *Kubelet { return &Kubelet{cfg: cfg, log: log} }

// Name implements component.Component.
func (k *Kubelet) Name() string { return "kubelet" }

// Start writes the config file, builds the kubelet and runs it.
func (k *Kubelet) Start(ctx context.Context) error {
	// The kubelet ends the whole process when it cannot bind its ports, so
	// check them first and say which one is taken.
	for _, addr := range []string{"0.0.0.0:10250", "127.0.0.1:10248"} {
		if err := portFree(addr); err != nil {
			return fmt.Errorf("kubelet port %s: %w", addr, err)
		}
	}
	for _, dir := range []string{k.cfg.RootDir, k.cfg.StaticPodDir} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
	}
	b, err := RenderKubeletConfig(k.cfg)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(k.cfg.ConfigPath, b, 0o600); err != nil {
		return fmt.Errorf("kubelet config: %w", err)
	}
	server, err := k.server(ctx)
	if err != nil {
		return err
	}
	deps, err := kubeletapp.UnsecuredDependencies(ctx, server, utilfeature.DefaultFeatureGate)
	if err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}
	// NOTE: kubelet's Run returns when ctx ends but leaves its servers
	// running; it can run only once per process, which wren respects.
	k.Go(ctx, func(ctx context.Context) error {
		return kubeletapp.Run(ctx, server, deps, utilfeature.DefaultFeatureGate)
	})
	return nil
}

// server assembles the kubelet's flags and configuration the way its command does.
func (k *Kubelet) server(ctx context.Context) (*kubeletoptions.KubeletServer, error) {
	kf := kubeletoptions.NewKubeletFlags()
	kf.KubeletConfigFile = k.cfg.ConfigPath
	kf.KubeConfig = k.cfg.Kubeconfig
	kf.HostnameOverride = k.cfg.NodeName
	kf.NodeIP = k.cfg.NodeIP
	kf.RootDirectory = k.cfg.RootDir
	kf.CertDirectory = filepath.Join(k.cfg.RootDir, "pki")
	kf.NodeLabels = maps.Clone(k.cfg.Labels)
	// wren's cloud node controller sets the node's addresses (the external
	// IP among them) from the annotations the agent publishes.
	kf.CloudProvider = "external"

	abs, err := filepath.Abs(k.cfg.ConfigPath)
	if err != nil {
		return nil, err
	}
	loader, err := configfiles.NewFsLoader(&utilfs.DefaultFs{}, abs)
	if err != nil {
		return nil, err
	}
	kc, err := loader.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("kubelet config %s: %w", k.cfg.ConfigPath, err)
	}
	if kc.EvictionHard == nil {
		kc.EvictionHard = maps.Clone(eviction.DefaultEvictionHard)
	}
	// --kubelet-arg: the flags override the file, as on kubelet's command line.
	fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	fs.SetNormalizeFunc(cliflag.WordSepNormalizeFunc)
	fs.SetOutput(io.Discard)
	kf.AddFlags(fs)
	kubeletoptions.AddKubeletConfigFlags(fs, kc)
	if err := fs.Parse(cliargs.Flags(k.cfg.ExtraArgs)); err != nil {
		return nil, fmt.Errorf("--kubelet-arg: %w", err)
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(kc.FeatureGates); err != nil {
		return nil, fmt.Errorf("kubelet feature gates: %w", err)
	}
	if err := kubeletoptions.ValidateKubeletFlags(kf); err != nil {
		return nil, fmt.Errorf("kubelet flags: %w", err)
	}
	if err := kubeletconfigvalidation.ValidateKubeletConfiguration(kc, utilfeature.DefaultFeatureGate); err != nil {
		return nil, fmt.Errorf("kubelet configuration: %w", err)
	}
	return &kubeletoptions.KubeletServer{KubeletFlags: *kf, KubeletConfiguration: *kc}, nil
}

// Ready returns nil once the kubelet's health endpoint answers ok.
func (k *Kubelet) Ready(ctx context.Context) error {
	return healthz.NewHTTP("http://127.0.0.1:10248/healthz").Check(ctx)
}

// portFree reports an error if addr cannot be bound now.
func portFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return errors.New("already in use")
		}
		return err
	}
	return l.Close()
}
