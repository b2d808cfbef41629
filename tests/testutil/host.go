// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// hostSysctls are the kernel settings a node changes (wren's own and the
// kubelet's tunables); tests put them back.
var hostSysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
	"net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
	"fs/inotify/max_user_instances", "fs/inotify/max_user_watches", "net/ipv4/conf/all/route_localnet",
}

// hostState is what a node test must restore.
type hostState struct {
	sysctls    map[string]string
	rootShared bool
}

func snapshotHost() hostState {
	s := hostState{sysctls: map[string]string{}}
	for _, k := range hostSysctls {
		if b, err := os.ReadFile("/proc/sys/" + k); err == nil {
			s.sysctls[k] = strings.TrimSpace(string(b))
		}
	}
	out, _ := exec.Command("findmnt", "-n", "-o", "PROPAGATION", "/").Output()
	s.rootShared = strings.Contains(string(out), "shared")
	return s
}

// cleanHost stops everything the node started, removes what it left in the
// host's shared places and restores the settings recorded before it started.
func (s *Server) cleanHost(before hostState) {
	ctx := 2 * time.Minute
	res := RunWren(s.t, ctx, nil, "killall", "--data-dir", s.DataDir)
	if res.ExitCode != 0 {
		s.t.Errorf("wren killall: %s", res.Stderr)
	}
	for _, dir := range []string{"/var/lib/kubelet", "/var/log/pods", "/var/log/containers"} {
		if err := os.RemoveAll(dir); err != nil {
			s.t.Errorf("remove %s: %v", dir, err)
		}
	}
	for k, v := range before.sysctls {
		_ = os.WriteFile("/proc/sys/"+k, []byte(v), 0o644)
	}
	if !before.rootShared {
		_ = unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, "")
	}
}
