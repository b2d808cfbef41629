// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"log/slog"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/node"
	"github.com/wren-k8s/wren/pkg/payload"
)

// NodeComponents are a node's components in start order, in two parts.
// Runtime (the host setup, the release, containerd and its images) needs
// nothing from a server, so a server starts it side by side with its control
// plane; Rest (the node's credentials, the kubelet, flannel, kube-proxy)
// needs the API.
type NodeComponents struct {
	Runtime, Rest []component.Component
}

// All is the whole list in start order.
func (n NodeComponents) All() []component.Component {
	return append(append([]component.Component{}, n.Runtime...), n.Rest...)
}

// Components returns the node's components. cfg must be completed and
// validated.
func Components(cfg *config.Agent, creds Credentials, log *slog.Logger) (NodeComponents, error) {
	d := cfg.AgentDerived
	c := cfg.Cluster
	with := func(name string) *slog.Logger { return log.With("component", name) }
	host := node.DetectHost()
	files := Files{Dir: d.TLSDir}
	binDir := filepath.Join(d.DataDir, "current", "bin")
	self, err := os.Executable()
	if err != nil {
		return NodeComponents{}, err
	}
	servingCert, servingKey := files.KubeletServing()
	taints := make([]corev1.Taint, 0, len(cfg.NodeTaints))
	for _, t := range cfg.NodeTaints {
		p, _ := config.ParseTaint(t) // validated
		taints = append(taints, corev1.Taint{Key: p.Key, Value: p.Value, Effect: corev1.TaintEffect(p.Effect)})
	}

	runtime := []component.Component{
		node.NewHost(cfg.RunDir, with("host")),
		payload.NewInstaller(self, d.DataDir, filepath.Join(cfg.RunDir, "bin"), with("payload")),
		node.NewContainerd(node.ContainerdConfig{
			Root: d.ContainerdRoot, State: d.ContainerdState, Socket: d.ContainerdSocket,
			ConfigPath: filepath.Join(d.EtcDir, "containerd", "config.toml"),
			LogPath:    filepath.Join(d.AgentDir, "containerd", "containerd.log"),
			BinDir:     binDir, CNIConfDir: d.CNIConfDir, PauseImage: cfg.PauseImage, Host: host,
			RegistryDir: d.RegistryDir, Registries: d.Registries, RegistryWarnings: d.RegistryWarnings,
		}, with("containerd")),
		node.NewImages(d.ContainerdSocket, []node.ImageDir{
			{Path: filepath.Join(d.DataDir, "current", "images"), Pin: true},
			{Path: d.ImagesDir},
		}, filepath.Join(d.ContainerdRoot, "wren-imported"), with("images")),
	}
	credentials := &bootstrap{creds: creds, node: NodeIdentity{Name: d.NodeName, IPs: nodeIPs(d.NodeIP)}, files: files,
		agentDir: d.AgentDir, apiURL: c.APIURL, log: with("node-credentials")}
	kubelet := []component.Component{
		node.NewKubelet(node.KubeletConfig{
			NodeName: d.NodeName, NodeIP: d.NodeIP.String(), Kubeconfig: kubeletKubeconfig(d.AgentDir),
			RootDir: cfg.KubeletRootDir, ConfigPath: filepath.Join(d.EtcDir, "kubelet.yaml"),
			ClientCAFile: files.ClientCA(), ServingCert: servingCert, ServingKey: servingKey,
			RuntimeSocket: d.ContainerdSocket, ClusterDNS: c.ClusterDNS.String(), ClusterDomain: c.ClusterDomain,
			ResolvConf: cfg.ResolvConf, StaticPodDir: filepath.Join(d.AgentDir, "pod-manifests"),
			Labels: d.Labels, Taints: taints, ExtraArgs: cfg.ExtraKubeletArgs, Host: host,
		}, with("kubelet")),
		&addresses{node: d.NodeName, internal: d.NodeIP, external: cfg.NodeExternalIP.Addr, kubeconfig: kubeletKubeconfig(d.AgentDir)},
	}
	if !cfg.DisableKubeProxy {
		kubelet = append(kubelet, node.NewKubeProxy(node.KubeProxyConfig{
			NodeName: d.NodeName, Kubeconfig: kubeProxyKubeconfig(d.AgentDir),
			ClusterCIDR: c.ClusterCIDR.String(), ExtraArgs: cfg.ExtraKubeProxyArgs, Host: host,
		}, with("kube-proxy")))
	}
	if cfg.FlannelBackend == "none" {
		return NodeComponents{Runtime: runtime, Rest: append([]component.Component{credentials}, kubelet...)}, nil
	}
	// Flannel waits for the node's PodCIDR (and, in its subnet manager, a
	// second for its informer): alongside the kubelet, which registers the
	// node, rather than after it.
	flannel := node.NewFlannel(node.FlannelConfig{
		NodeName: d.NodeName, NodeIP: d.NodeIP.String(), Iface: cfg.FlannelIface, Backend: cfg.FlannelBackend,
		ClusterCIDR: c.ClusterCIDR.String(), Kubeconfig: controllerKubeconfig(d.AgentDir),
		EtcDir: filepath.Join(d.EtcDir, "flannel"), CNIConfDir: d.CNIConfDir,
		SubnetFile: filepath.Join(cfg.RunDir, "flannel", "subnet.env"), CNIDataDir: d.CNIDataDir,
	}, with("flannel"))
	return NodeComponents{Runtime: runtime, Rest: []component.Component{credentials,
		&component.Parallel{Label: "node", Lists: [][]component.Component{kubelet, {flannel}}}}}, nil
}
