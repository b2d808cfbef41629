// SPDX-License-Identifier: Apache-2.0

package node

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// kernelOptions are the kernel features a node needs, as kernel config
// symbols (built in or as a module).
var kernelOptions = []string{
	"CONFIG_NAMESPACES", "CONFIG_NET_NS", "CONFIG_PID_NS", "CONFIG_IPC_NS", "CONFIG_UTS_NS",
	"CONFIG_CGROUPS", "CONFIG_CGROUP_CPUACCT", "CONFIG_CGROUP_DEVICE", "CONFIG_CGROUP_FREEZER", "CONFIG_CGROUP_SCHED",
	"CONFIG_CPUSETS", "CONFIG_MEMCG", "CONFIG_KEYS", "CONFIG_VETH", "CONFIG_BRIDGE", "CONFIG_BRIDGE_NETFILTER",
	"CONFIG_IP_NF_FILTER", "CONFIG_IP_NF_TARGET_MASQUERADE", "CONFIG_NETFILTER_XT_MATCH_ADDRTYPE",
	"CONFIG_NETFILTER_XT_MATCH_CONNTRACK", "CONFIG_NETFILTER_XT_MATCH_COMMENT", "CONFIG_NF_NAT",
	"CONFIG_POSIX_MQUEUE", "CONFIG_VXLAN", "CONFIG_OVERLAY_FS",
}

// kernelConfigFiles are where distributions put the running kernel's config.
func kernelConfigFiles() []string {
	var u unix.Utsname
	_ = unix.Uname(&u)
	release := unix.ByteSliceToString(u.Release[:])
	return []string{"/proc/config.gz", "/boot/config-" + release, "/usr/src/linux-" + release + "/.config", "/lib/modules/" + release + "/build/.config"}
}

// ports a node and a server listen on (TCP unless marked udp).
var ports = []struct {
	port  int
	proto string
	what  string
}{
	{6443, "tcp", "API and supervisor, --https-listen-port"},
	{10250, "tcp", "kubelet"},
	{10256, "tcp", "kube-proxy health"},
	{10257, "tcp", "kube-controller-manager"},
	{10259, "tcp", "kube-scheduler"},
	{8472, "udp", "flannel vxlan"},
}

// minFreeBytes is the free space under the data dir below which
// check-config warns (images, the datastore and logs grow there).
const minFreeBytes = 2 << 30

// ExtendedChecks are `wren check-config`'s checks: the node's own, then the
// kernel configuration, free ports and free disk under dataDir.
func ExtendedChecks(dataDir string) []Check {
	cs := Checks()
	cs = append(cs, Check{Name: "kernel configuration", Required: true, Run: checkKernelConfig,
		Fix: "a kernel built with the options named (most distribution kernels are; on custom boards enable them in the kernel config)"})
	for _, p := range ports {
		cs = append(cs, Check{Name: fmt.Sprintf("port %d/%s free (%s)", p.port, p.proto, p.what), Run: portAvailable(p.proto, p.port),
			Impact: "wren cannot listen there (expected while wren itself runs)",
			Fix:    fmt.Sprintf("stop what listens on %d (ss -lnp | grep %d), or move wren's port with its flag", p.port, p.port)})
	}
	cs = append(cs, Check{Name: "free disk under " + dataDir, Run: freeDisk(dataDir),
		Impact: "image pulls and the datastore fail when the disk fills",
		Fix:    "free space or put --data-dir on a larger disk"})
	return cs
}

func checkKernelConfig() error {
	cfg, from, err := readKernelConfig()
	if err != nil {
		return err
	}
	var missing []string
	for _, opt := range kernelOptions {
		if v := cfg[opt]; v != "y" && v != "m" {
			missing = append(missing, opt)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s lacks %s", from, strings.Join(missing, ", "))
	}
	return nil
}

// errNoKernelConfig means no config file is readable: the check passes
// with a note, as the checks above already tried the features themselves.
var errNoKernelConfig = errors.New("no kernel config file found")

func readKernelConfig() (map[string]string, string, error) {
	for _, name := range kernelConfigFiles() {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				continue
			}
			if b, err = io.ReadAll(zr); err != nil {
				continue
			}
		}
		cfg := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "CONFIG_") {
				cfg[k] = v
			}
		}
		return cfg, name, nil
	}
	return nil, "", errNoKernelConfig
}

// KernelConfigMissing reports err as "no config to check" (not a failure).
func KernelConfigMissing(err error) bool { return errors.Is(err, errNoKernelConfig) }

func portAvailable(proto string, port int) func() error {
	return func() error {
		addr := fmt.Sprintf(":%d", port)
		if proto == "udp" {
			c, err := net.ListenPacket("udp", addr)
			if err != nil {
				return fmt.Errorf("in use: %w", err)
			}
			return c.Close()
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("in use: %w", err)
		}
		return l.Close()
	}
}

func freeDisk(dir string) func() error {
	return func() error {
		// The data dir may not exist yet: look at its closest parent.
		for d := dir; ; d = parentDir(d) {
			var st unix.Statfs_t
			if err := unix.Statfs(d, &st); err == nil {
				free := st.Bavail * uint64(st.Bsize)
				if free < minFreeBytes {
					return fmt.Errorf("%.1f GiB free on %s, want at least %d GiB", float64(free)/(1<<30), d, minFreeBytes>>30)
				}
				return nil
			}
			if d == "/" {
				return errors.New("cannot stat any parent")
			}
		}
	}
}

func parentDir(d string) string {
	if i := strings.LastIndexByte(strings.TrimSuffix(d, "/"), '/'); i > 0 {
		return d[:i]
	}
	return "/"
}

func cgroupVersion() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "cgroup v2"
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
		return "cgroup v1 (hybrid)"
	}
	return "cgroup v1"
}

func iptablesBackend() string {
	out, err := exec.Command("iptables", "--version").Output()
	if err != nil {
		return ""
	}
	switch v := string(out); {
	case strings.Contains(v, "nf_tables"):
		return "nf_tables backend"
	case strings.Contains(v, "legacy"):
		return "legacy backend"
	}
	return strings.TrimSpace(string(out))
}
