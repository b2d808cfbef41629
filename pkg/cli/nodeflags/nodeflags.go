// SPDX-License-Identifier: Apache-2.0

// Package nodeflags binds the node flags shared by `wren server` and
// `wren agent` to config.Agent.
package nodeflags

import (
	"github.com/spf13/pflag"

	"github.com/wren-k8s/wren/pkg/cli/flagsource"
	"github.com/wren-k8s/wren/pkg/config"
)

// Bind registers the node flags (k3s names) on fs.
func Bind(fs *pflag.FlagSet, a *config.Agent) {
	fs.StringVar(&a.NodeName, "node-name", a.NodeName, "Node name (default: hostname)")
	fs.Var(&a.NodeIP, "node-ip", "IP address to advertise for the node (default: default-route interface)")
	fs.Var(&a.NodeExternalIP, "node-external-ip", "External IP address of the node, published in its status addresses")
	fs.StringArrayVar(&a.NodeLabels, "node-label", a.NodeLabels, "Label to register the node with (key=value)")
	fs.StringArrayVar(&a.NodeTaints, "node-taint", a.NodeTaints, "Taint to register the node with (key=value:Effect)")
	fs.StringArrayVar(&a.ExtraKubeletArgs, "kubelet-arg", nil, "Extra kubelet flag (name=value)")
	fs.StringArrayVar(&a.ExtraKubeProxyArgs, "kube-proxy-arg", nil, "Extra kube-proxy flag (name=value)")
	fs.BoolVar(&a.DisableKubeProxy, "disable-kube-proxy", a.DisableKubeProxy, "Do not run kube-proxy")
	fs.StringVar(&a.PauseImage, "pause-image", a.PauseImage, "Sandbox (pause) image")
	fs.StringVar(&a.PrivateRegistry, "private-registry", a.PrivateRegistry, "Registry configuration file: mirrors, auth and TLS (k3s's registries.yaml format)")
	fs.StringVar(&a.ResolvConf, "resolv-conf", a.ResolvConf, "resolv.conf for pods using the node's DNS (default: /etc/resolv.conf)")
	fs.StringVar(&a.FlannelBackend, "flannel-backend", a.FlannelBackend, "Pod network backend: vxlan, host-gw or none")
	fs.StringVar(&a.FlannelIface, "flannel-iface", a.FlannelIface, "Interface for the pod network (default: the node IP's)")
	flagsource.BindEnv(fs, "node-name", "WREN_NODE_NAME")
	flagsource.BindEnv(fs, "resolv-conf", "WREN_RESOLV_CONF")
}
