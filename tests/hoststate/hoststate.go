// SPDX-License-Identifier: Apache-2.0

// Package hoststate records what a wren node changes on the host and puts
// it back, for the tests and the benchmarks that run nodes on this machine.
package hoststate

import (
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// sysctls are the kernel settings a node changes (wren's own and the
// kubelet's tunables).
var sysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
	"net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
	"fs/inotify/max_user_instances", "fs/inotify/max_user_watches", "net/ipv4/conf/all/route_localnet",
}

// NodeDirs are the host directories a node leaves behind (the kubelet's).
var NodeDirs = []string{"/var/lib/kubelet", "/var/log/pods", "/var/log/containers"}

// State is the host's settings before a node started.
type State struct {
	sysctls    map[string]string
	rootShared bool
}

// Snapshot records the current settings.
func Snapshot() State {
	s := State{sysctls: map[string]string{}}
	for _, k := range sysctls {
		if b, err := os.ReadFile("/proc/sys/" + k); err == nil {
			s.sysctls[k] = strings.TrimSpace(string(b))
		}
	}
	out, _ := exec.Command("findmnt", "-n", "-o", "PROPAGATION", "/").Output()
	s.rootShared = strings.Contains(string(out), "shared")
	return s
}

// Restore puts the recorded sysctls and the propagation of / back.
func (s State) Restore() {
	for k, v := range s.sysctls {
		_ = os.WriteFile("/proc/sys/"+k, []byte(v), 0o644)
	}
	if !s.rootShared {
		_ = unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, "")
	}
}

// ContainerdPID is the pid of the containerd a node on this host runs
// (from its pid file under the default run dir), or 0 when none runs.
func ContainerdPID() (int, error) {
	b, err := os.ReadFile("/run/wren/containerd/containerd.pid")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
