// SPDX-License-Identifier: Apache-2.0

// Package killall stops everything a wren node runs on a host (wren itself,
// containerd, the shims and every container) and removes what they left in
// the host's shared places: mounts, network interfaces and netns, iptables
// and nftables rules, runtime state. It is `wren killall`, and what tests
// use to leave the machine clean.
package killall

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/wren-k8s/wren/pkg/node"
)

// Options locate what to clean.
type Options struct {
	DataDir        string
	RunDir         string
	KubeletRootDir string
	Log            *slog.Logger
}

// Run kills and cleans; it carries on past errors and returns them joined.
func Run(o Options) error {
	var errs []error
	if err := killProcesses(o); err != nil {
		errs = append(errs, err)
	}
	for _, dir := range []string{o.RunDir, filepath.Join(o.KubeletRootDir, "pods"), filepath.Join(o.KubeletRootDir, "plugins"),
		filepath.Join(o.DataDir, "agent"), "/run/netns", "/var/run/netns"} {
		if err := unmountUnder(dir); err != nil {
			errs = append(errs, err)
		}
	}
	removeNetns()
	deleteLinks(o.Log)
	if err := cleanFirewall(); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(o.RunDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

type proc struct {
	pid, ppid int
	exe       string
	cmdline   string
}

func processes() []proc {
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may contain spaces.
		rest := stat[bytes.LastIndexByte(stat, ')')+2:]
		fields := strings.Fields(string(rest))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		out = append(out, proc{pid: pid, ppid: ppid, exe: exe, cmdline: strings.ReplaceAll(string(cmdline), "\x00", " ")})
	}
	return out
}

// killProcesses kills wren processes (other than this one) and the process
// trees of the shims started from the data dir's payload: the containers.
func killProcesses(o Options) error {
	self := os.Getpid()
	selfExe, _ := os.Executable()
	procs := processes()
	children := map[int][]int{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	payloadDir := filepath.Join(o.DataDir, "data") + "/"
	targets := map[int]bool{}
	var mark func(pid int)
	mark = func(pid int) {
		if pid == self || targets[pid] {
			return
		}
		targets[pid] = true
		for _, c := range children[pid] {
			mark(c)
		}
	}
	for _, p := range procs {
		exe := strings.TrimSuffix(p.exe, " (deleted)")
		switch {
		case strings.HasPrefix(exe, payloadDir): // shims and their containers
			mark(p.pid)
		case exe == selfExe && p.pid != self && isWrenDaemon(p.cmdline):
			mark(p.pid)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	for pid := range targets {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pid := range targets {
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	o.Log.Info("killed processes", "count", len(targets))
	return nil
}

// isWrenDaemon matches `wren server`, `wren agent` and the containerd child.
func isWrenDaemon(cmdline string) bool {
	fields := strings.Fields(cmdline)
	return len(fields) > 1 && (fields[1] == "server" || fields[1] == "agent" || fields[1] == "containerd")
}

func unmountUnder(dir string) error {
	mounts, err := node.MountsUnder(dir)
	if err != nil {
		return err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts))) // children first
	var errs []error
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// removeNetns deletes the pod network namespaces containerd's CNI made.
func removeNetns() {
	for _, dir := range []string{"/run/netns", "/var/run/netns"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "cni-*"))
		for _, m := range matches {
			_ = unix.Unmount(m, unix.MNT_DETACH)
			_ = os.Remove(m)
		}
	}
}

// deleteLinks removes the bridge, the flannel devices and any veth left on the bridge.
func deleteLinks(log *slog.Logger) {
	links, err := netlink.LinkList()
	if err != nil {
		return
	}
	var bridgeIndex int
	for _, l := range links {
		if l.Attrs().Name == "cni0" {
			bridgeIndex = l.Attrs().Index
		}
	}
	for _, l := range links {
		a := l.Attrs()
		if a.Name == "cni0" || strings.HasPrefix(a.Name, "flannel") || (bridgeIndex != 0 && a.MasterIndex == bridgeIndex) {
			if err := netlink.LinkDel(l); err == nil {
				log.Debug("deleted link", "name", a.Name)
			}
		}
	}
}

// ourRule matches the iptables chains and rules of kube-proxy, the kubelet,
// CNI plugins and flannel, and nothing else (Docker's rules stay).
func ourRule(line string) bool {
	for _, s := range []string{"KUBE-", "CNI-", "FLANNEL", "flannel", "cni0"} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func cleanFirewall() error {
	var errs []error
	for _, tool := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(tool + "-save"); err != nil {
			continue
		}
		saved, err := exec.Command(tool + "-save").Output()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s-save: %w", tool, err))
			continue
		}
		var kept []string
		changed := false
		for _, line := range strings.Split(string(saved), "\n") {
			if ourRule(line) {
				changed = true
				continue
			}
			kept = append(kept, line)
		}
		if !changed {
			continue
		}
		restore := exec.Command(tool + "-restore")
		restore.Stdin = strings.NewReader(strings.Join(kept, "\n"))
		if out, err := restore.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s-restore: %v: %s", tool, err, out))
		}
	}
	if _, err := exec.LookPath("nft"); err == nil {
		for _, family := range []string{"ip", "ip6"} {
			_ = exec.Command("nft", "delete", "table", family, "kube-proxy").Run()
		}
	}
	return errors.Join(errs...)
}
