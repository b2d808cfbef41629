// SPDX-License-Identifier: Apache-2.0

// Package node runs the parts of a Kubernetes node inside wren: host setup,
// containerd (as a child process), image import, kubelet, kube-proxy and
// flannel, each as a component.
package node

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// HostInfo is what wren detects about the host at start instead of assuming.
type HostInfo struct {
	// CgroupV2 is true on a unified (v2-only) cgroup hierarchy.
	CgroupV2 bool
	// CanLowerOOMScore is false when the process lacks CAP_SYS_RESOURCE, so
	// oom_score_adj cannot go below 0 (containers, some VMs).
	CanLowerOOMScore bool
}

// DetectHost reads the cgroup mode and the effective capabilities.
func DetectHost() HostInfo {
	var st unix.Statfs_t
	v2 := unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	return HostInfo{CgroupV2: v2, CanLowerOOMScore: hasCapability(unix.CAP_SYS_RESOURCE)}
}

// hasCapability reports whether cap is in this process's effective set.
func hasCapability(capability int) bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<uint(capability)) != 0
		}
	}
	return false
}
