// SPDX-License-Identifier: Apache-2.0

package config

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/wren-k8s/wren/pkg/internal/cliargs"
	"github.com/wren-k8s/wren/pkg/internal/fserr"
	"github.com/wren-k8s/wren/pkg/registries"
	"github.com/wren-k8s/wren/pkg/version"
)

// Node defaults.
const (
	// DefaultRunDir holds runtime state (sockets, containerd state); it is cleared at start.
	DefaultRunDir = "/run/wren"
	// DefaultKubeletRootDir is the kubelet's state directory, where CSI drivers expect it.
	DefaultKubeletRootDir = "/var/lib/kubelet"
	// KubeletPort is the kubelet's API port.
	KubeletPort = 10250
)

// FlannelBackends are the --flannel-backend values.
var FlannelBackends = []string{"vxlan", "host-gw", "none"}

// Agent is the configuration of the node part of wren: `wren agent`, and the
// node that `wren server` runs unless --disable-agent.
type Agent struct {
	NodeName       string
	NodeIP         Addr
	NodeExternalIP Addr
	NodeLabels     []string
	NodeTaints     []string

	ExtraKubeletArgs   []string
	ExtraKubeProxyArgs []string
	DisableKubeProxy   bool

	PauseImage string
	ResolvConf string
	// PrivateRegistry is the registries.yaml to read (mirrors, auth, TLS);
	// a missing file means none.
	PrivateRegistry string

	FlannelBackend string
	FlannelIface   string

	// RunDir and KubeletRootDir are fixed per host; tests and unusual layouts override them.
	RunDir         string
	KubeletRootDir string

	// Cluster holds the cluster-wide settings the node follows. The server
	// fills them for its own node; a joining agent learns them from its server.
	Cluster ClusterSettings

	// AgentDerived is filled by CompleteAgent.
	AgentDerived AgentDerived
}

// ClusterSettings are the cluster-wide values a node needs.
type ClusterSettings struct {
	// APIURL is where the node's kubelet, kube-proxy and flannel reach the API.
	APIURL        string
	ClusterCIDR   netip.Prefix
	ServiceCIDR   netip.Prefix
	ClusterDNS    netip.Addr
	ClusterDomain string
}

// AgentDerived holds the node's computed values.
type AgentDerived struct {
	AgentDir   string // <data-dir>/agent
	DataDir    string // <data-dir>/data: extracted payloads
	ImagesDir  string // <data-dir>/agent/images: tarballs imported at start
	EtcDir     string // <data-dir>/agent/etc: rendered configs
	TLSDir     string // <data-dir>/agent/tls: node certificates
	CNIConfDir string // <data-dir>/agent/etc/cni/net.d
	CNIDataDir string // host-local IPAM state

	ContainerdRoot   string
	ContainerdState  string
	ContainerdSocket string

	NodeName string
	NodeIP   netip.Addr
	Labels   map[string]string

	// RegistryDir is containerd's certs.d, written from Registries.
	RegistryDir string
	// Registries is PrivateRegistry's content (nil without a file), loaded
	// by ValidateAgent, with what it ignored in RegistryWarnings.
	Registries       *registries.Registries
	RegistryWarnings []string
}

// DefaultAgent returns the node defaults.
func DefaultAgent() Agent {
	return Agent{
		PauseImage:      version.PauseImage,
		PrivateRegistry: registries.DefaultPath,
		FlannelBackend:  "vxlan",
		RunDir:          DefaultRunDir,
		KubeletRootDir:  DefaultKubeletRootDir,
	}
}

// CompleteAgent derives the node's paths and identity under dataDir.
func (a *Agent) CompleteAgent(dataDir string, hostIP netip.Addr, hostname string) error {
	d := &a.AgentDerived
	d.AgentDir = filepath.Join(dataDir, "agent")
	d.DataDir = filepath.Join(dataDir, "data")
	d.ImagesDir = filepath.Join(d.AgentDir, "images")
	d.EtcDir = filepath.Join(d.AgentDir, "etc")
	d.TLSDir = filepath.Join(d.AgentDir, "tls")
	d.CNIConfDir = filepath.Join(d.EtcDir, "cni", "net.d")
	d.CNIDataDir = filepath.Join(d.AgentDir, "cni")
	d.ContainerdRoot = filepath.Join(d.AgentDir, "containerd")
	d.ContainerdState = filepath.Join(a.RunDir, "containerd")
	d.ContainerdSocket = filepath.Join(a.RunDir, "containerd", "containerd.sock")
	d.RegistryDir = filepath.Join(d.EtcDir, "containerd", "certs.d")

	d.NodeName = strings.ToLower(a.NodeName)
	if d.NodeName == "" {
		d.NodeName = hostname
	}
	d.NodeIP = a.NodeIP.Addr
	if !d.NodeIP.IsValid() {
		d.NodeIP = hostIP
	}
	d.Labels = map[string]string{}
	for _, l := range a.NodeLabels {
		k, v, _ := strings.Cut(l, "=")
		d.Labels[k] = v
	}
	if a.ResolvConf == "" {
		a.ResolvConf = defaultResolvConf()
	}
	return nil
}

// ValidateAgent checks the node settings, one line per problem.
func (a *Agent) ValidateAgent() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if msgs := validation.IsDNS1123Subdomain(a.AgentDerived.NodeName); len(msgs) > 0 {
		add("--node-name %q: %s", a.AgentDerived.NodeName, msgs[0])
	}
	if ip := a.NodeIP.Addr; ip.IsValid() && !hostHasIP(ip) {
		add("--node-ip %s: not an address of this host", ip)
	}
	if !contains(FlannelBackends, a.FlannelBackend) {
		add("--flannel-backend %q: want one of %s", a.FlannelBackend, strings.Join(FlannelBackends, ", "))
	}
	for _, l := range a.NodeLabels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
			add("--node-label %q: want key=value with a valid label key and value", l)
		}
	}
	for _, t := range a.NodeTaints {
		if _, err := ParseTaint(t); err != nil {
			add("--node-taint %q: %v", t, err)
		}
	}
	if a.ResolvConf != "" {
		if _, err := os.Stat(a.ResolvConf); err != nil {
			add("--resolv-conf %s: %v", a.ResolvConf, fserr.Cause(err))
		}
	}
	if a.PrivateRegistry != "" {
		r, warnings, err := registries.Load(a.PrivateRegistry)
		if err != nil {
			errs = append(errs, err)
		}
		a.AgentDerived.Registries, a.AgentDerived.RegistryWarnings = r, warnings
	}
	for flag, args := range map[string][]string{"--kubelet-arg": a.ExtraKubeletArgs, "--kube-proxy-arg": a.ExtraKubeProxyArgs} {
		for _, x := range args {
			if k, _ := cliargs.NameValue(x); k == "" {
				add("%s %q: want name=value", flag, x)
			}
		}
	}
	return errs
}

// Taint is a parsed --node-taint (key[=value]:Effect).
type Taint struct{ Key, Value, Effect string }

// ParseTaint parses key[=value]:Effect with Effect one of NoSchedule, PreferNoSchedule, NoExecute.
func ParseTaint(s string) (Taint, error) {
	kv, effect, ok := strings.Cut(s, ":")
	if !ok {
		return Taint{}, fmt.Errorf("want key[=value]:Effect")
	}
	switch effect {
	case "NoSchedule", "PreferNoSchedule", "NoExecute":
	default:
		return Taint{}, fmt.Errorf("effect %q: want NoSchedule, PreferNoSchedule or NoExecute", effect)
	}
	k, v, _ := strings.Cut(kv, "=")
	if len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
		return Taint{}, fmt.Errorf("invalid key or value")
	}
	return Taint{Key: k, Value: v, Effect: effect}, nil
}

// defaultResolvConf skips a systemd-resolved stub, whose 127.0.0.53 is
// unreachable from pods, in favour of the real upstream list.
func defaultResolvConf() string {
	const resolved = "/run/systemd/resolve/resolv.conf"
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil && strings.Contains(string(b), "127.0.0.53") {
		if _, err := os.Stat(resolved); err == nil {
			return resolved
		}
	}
	return "/etc/resolv.conf"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
