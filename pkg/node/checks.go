// SPDX-License-Identifier: Apache-2.0

package node

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// Check is one host requirement, checked at node start and by `wren check-config`.
type Check struct {
	Name     string
	Required bool
	// Impact says what breaks without it (for optional checks).
	Impact string
	Run    func() error
}

// Checks lists the kernel and userland features a node uses.
func Checks() []Check {
	return []Check{
		{Name: "cgroups (cpu, memory, pids)", Required: true, Run: checkCgroups},
		{Name: "overlay filesystem", Required: true, Run: filesystem("overlay")},
		{Name: "mount propagation (shared mounts)", Required: true, Run: checkRoot},
		{Name: "bridge netfilter (br_netfilter)", Required: true, Run: sysctlExists("net/bridge/bridge-nf-call-iptables")},
		{Name: "IP forwarding", Required: true, Run: sysctlExists("net/ipv4/ip_forward")},
		{Name: "conntrack (nf_conntrack)", Required: true, Run: sysctlExists("net/netfilter/nf_conntrack_max")},
		{Name: "iptables command", Required: true, Run: command("iptables", "--version")},
		{Name: "iptables-restore command", Required: true, Run: command("iptables-restore", "--version")},
		{Name: "nft command", Impact: "kube-proxy nftables mode unavailable", Run: command("nft", "--version")},
		{Name: "ip6tables command", Impact: "no IPv6 service rules", Run: command("ip6tables", "--version")},
		{Name: "/dev/kmsg", Impact: "kubelet cannot watch for OOM kills", Run: exists("/dev/kmsg")},
		{Name: "swap off", Impact: "kubelet refuses to start with swap on", Run: checkSwapOff},
		{Name: "mount command", Required: true, Run: command("mount", "--version")},
	}
}

func checkRoot() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("a node must run as root")
	}
	return nil
}

func checkCgroups() error {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return err
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		if err != nil {
			return err
		}
		for _, c := range []string{"cpu", "memory", "pids"} {
			if !strings.Contains(" "+string(b)+" ", " "+c) {
				return fmt.Errorf("cgroup v2 controller %s not enabled", c)
			}
		}
		return nil
	}
	f, err := os.Open("/proc/cgroups")
	if err != nil {
		return err
	}
	defer f.Close()
	enabled := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 4 && fields[3] == "1" {
			enabled[fields[0]] = true
		}
	}
	for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer"} {
		if !enabled[c] {
			return fmt.Errorf("cgroup v1 controller %s missing", c)
		}
	}
	return nil
}

func filesystem(name string) func() error {
	return func() error {
		b, err := os.ReadFile("/proc/filesystems")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(strings.TrimPrefix(line, "nodev")) == name {
				return nil
			}
		}
		return fmt.Errorf("%s %w in /proc/filesystems", name, errNotFound)
	}
}

func sysctlExists(key string) func() error {
	return func() error {
		_, err := os.Stat("/proc/sys/" + key)
		return err
	}
}

func command(name string, args ...string) func() error {
	return func() error {
		path, err := exec.LookPath(name)
		if err != nil {
			return err
		}
		return exec.Command(path, args...).Run()
	}
}

func exists(path string) func() error {
	return func() error { _, err := os.Stat(path); return err }
}

func checkSwapOff() error {
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return err
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) > 1 {
		return fmt.Errorf("swap is on (%d devices)", len(lines)-1)
	}
	return nil
}
