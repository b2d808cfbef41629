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
	// Fix says how to get it.
	Fix string
	Run func() error
	// Info, when set, describes what was found (cgroup version, backend).
	Info func() string
}

// Checks lists the kernel and userland features a node uses.
func Checks() []Check {
	return []Check{
		{Name: "cgroups (cpu, memory, pids)", Required: true, Run: checkCgroups, Info: cgroupVersion,
			Fix: "enable the memory cgroup on the kernel command line: add cgroup_memory=1 cgroup_enable=memory (on a Raspberry Pi: to /boot/firmware/cmdline.txt), then reboot"},
		{Name: "overlay filesystem", Required: true, Run: filesystem("overlay"),
			Fix: "modprobe overlay; echo overlay >> /etc/modules-load.d/wren.conf"},
		{Name: "root (mounts, cgroups, firewall)", Required: true, Run: checkRoot,
			Fix: "run wren as root (sudo)"},
		{Name: "bridge netfilter (br_netfilter)", Required: true, Run: sysctlExists("net/bridge/bridge-nf-call-iptables"),
			Fix: "modprobe br_netfilter; echo br_netfilter >> /etc/modules-load.d/wren.conf"},
		{Name: "IP forwarding", Required: true, Run: sysctlExists("net/ipv4/ip_forward"),
			Fix: "a kernel with IPv4 networking (CONFIG_INET); wren turns forwarding on itself"},
		{Name: "conntrack (nf_conntrack)", Required: true, Run: sysctlExists("net/netfilter/nf_conntrack_max"),
			Fix: "modprobe nf_conntrack; echo nf_conntrack >> /etc/modules-load.d/wren.conf"},
		{Name: "iptables command", Required: true, Run: command("iptables", "--version"), Info: iptablesBackend,
			Fix: "apt-get install iptables (Debian, Ubuntu, Raspberry Pi OS) or apk add iptables (Alpine)"},
		{Name: "iptables-restore command", Required: true, Run: command("iptables-restore", "--version"),
			Fix: "apt-get install iptables (it carries iptables-restore)"},
		{Name: "nft command", Impact: "kube-proxy nftables mode unavailable", Run: command("nft", "--version"),
			Fix: "apt-get install nftables"},
		{Name: "ip6tables command", Impact: "no IPv6 service rules", Run: command("ip6tables", "--version"),
			Fix: "apt-get install iptables (it carries ip6tables)"},
		{Name: "/dev/kmsg", Impact: "kubelet cannot watch for OOM kills", Run: exists("/dev/kmsg"),
			Fix: "in a container, pass the host's /dev/kmsg (docker run --device /dev/kmsg)"},
		{Name: "swap off", Impact: "kubelet refuses to start with swap on", Run: checkSwapOff,
			Fix: "swapoff -a and remove swap from /etc/fstab (Raspberry Pi OS: dphys-swapfile swapoff && systemctl disable dphys-swapfile)"},
		{Name: "mount command", Required: true, Run: command("mount", "--version"),
			Fix: "apt-get install mount"},
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
