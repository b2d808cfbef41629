// SPDX-License-Identifier: Apache-2.0

package node

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wren-k8s/wren/pkg/registries"
)

// statsCollectPeriod is how often containerd samples container CPU usage.
const statsCollectPeriod = "10s"

// RenderContainerdConfig renders containerd's config.toml (version 3) from the
// typed settings and the detected host.
func RenderContainerdConfig(c ContainerdConfig) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Written by wren at every start; edits are overwritten.")
	w("version = 3")
	w("root = %q", c.Root)
	w("state = %q", c.State)
	w("oom_score = 0")
	w("disabled_plugins = [")
	for _, p := range disabledContainerdPlugins {
		w("  %q,", p)
	}
	w("]")
	w("")
	w("[grpc]")
	w("  address = %q", c.Socket)
	w("")
	w(`[plugins."io.containerd.grpc.v1.cri"]`)
	w("  stream_server_address = \"127.0.0.1\"")
	w("  stream_server_port = \"0\"")
	w("  enable_tls_streaming = false")
	w("")
	w(`[plugins."io.containerd.cri.v1.runtime"]`)
	w("  enable_selinux = false")
	// NOTE: without CAP_SYS_RESOURCE nothing can set oom_score_adj below 0, and
	// every pod sandbox (-998) fails in runc; restricting clamps it to 0.
	w("  restrict_oom_score_adj = %t", !c.Host.CanLowerOOMScore)
	w("  enable_unprivileged_ports = true")
	w("  enable_unprivileged_icmp = true")
	// The CRI samples every container's cgroups for CPU rates; its default
	// of every second costs idle CPU in proportion to the pods. Ten seconds
	// is the kubelet's own stats housekeeping period.
	w("  stats_collect_period = %q", statsCollectPeriod)
	w(`  [plugins."io.containerd.cri.v1.runtime".cni]`)
	w("    bin_dirs = [%q]", c.BinDir)
	w("    conf_dir = %q", c.CNIConfDir)
	w(`  [plugins."io.containerd.cri.v1.runtime".containerd]`)
	w("    default_runtime_name = \"runc\"")
	w(`    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]`)
	w("      runtime_type = \"io.containerd.runc.v2\"")
	w("      runtime_path = %q", filepath.Join(c.BinDir, "containerd-shim-runc-v2"))
	w(`      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]`)
	w("        BinaryName = %q", filepath.Join(c.BinDir, "runc"))
	w("        SystemdCgroup = false")
	w("")
	w(`[plugins."io.containerd.cri.v1.images"]`)
	w("  snapshotter = \"overlayfs\"")
	w(`  [plugins."io.containerd.cri.v1.images".pinned_images]`)
	w("    sandbox = %q", c.PauseImage)
	// Always set: a host's /etc/containerd/certs.d is not wren's config.
	w(`  [plugins."io.containerd.cri.v1.images".registry]`)
	w("    config_path = %q", c.RegistryDir)
	// Credentials have no place in hosts.toml: the CRI plugin keeps them.
	auths := c.Registries.Auths()
	for _, host := range slices.Sorted(maps.Keys(auths)) {
		a := auths[host]
		w(`  [plugins."io.containerd.cri.v1.images".registry.configs.%s.auth]`, registries.TOMLString(host))
		for _, kv := range [][2]string{{"username", a.Username}, {"password", a.Password}, {"auth", a.Auth}, {"identitytoken", a.IdentityToken}} {
			if kv[1] != "" {
				w("    %s = %s", kv[0], registries.TOMLString(kv[1]))
			}
		}
	}
	w("")
	w(`[plugins."io.containerd.shim.v1.manager"]`)
	w("  socket_dir = %q", filepath.Join(c.State, "s"))
	w("  env = [%q]", "PATH="+c.BinDir+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	return b.String()
}

// disabledContainerdPlugins are plugins a Kubernetes node does not use;
// leaving them out saves memory and start-up time.
var disabledContainerdPlugins = []string{
	"io.containerd.snapshotter.v1.btrfs",
	"io.containerd.snapshotter.v1.zfs",
	"io.containerd.snapshotter.v1.devmapper",
	"io.containerd.snapshotter.v1.blockfile",
	"io.containerd.snapshotter.v1.erofs",
	"io.containerd.snapshotter.v1.native",
	"io.containerd.differ.v1.erofs",
	"io.containerd.mount-handler.v1.erofs",
	"io.containerd.internal.v1.tracing",
	"io.containerd.tracing.processor.v1.otlp",
	"io.containerd.nri.v1.nri",
	"io.containerd.internal.v1.opt",
	"io.containerd.monitor.container.v1.restart",
}
