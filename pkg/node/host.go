// SPDX-License-Identifier: Apache-2.0

package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/wren-k8s/wren/pkg/component"
)

// Host prepares the host for a node: checks the kernel features a node
// cannot run without, makes / a shared mount, sets the sysctls pod
// networking needs and clears runtime state left from before a reboot.
type Host struct {
	runDir string
	log    *slog.Logger
}

var _ component.Component = (*Host)(nil)

// NewHost returns the host setup component; runDir is /run/wren.
func NewHost(runDir string, log *slog.Logger) *Host { return &Host{runDir: runDir, log: log} }

// Name implements component.Component.
func (h *Host) Name() string { return "host" }

// sysctls wren sets for pod networking, and the inotify limits kubelet and
// many pods need.
var sysctls = map[string]string{
	"net/ipv4/ip_forward":                 "1",
	"net/bridge/bridge-nf-call-iptables":  "1",
	"net/bridge/bridge-nf-call-ip6tables": "1",
	"fs/inotify/max_user_instances":       "8192",
	"fs/inotify/max_user_watches":         "524288",
}

// Start runs the checks and the setup.
func (h *Host) Start(context.Context) error {
	var missing []string
	for _, c := range Checks() {
		if err := c.Run(); err != nil {
			if c.Required {
				missing = append(missing, fmt.Sprintf("%s (%v)", c.Name, err))
			} else {
				h.log.Warn("host check failed", "check", c.Name, "err", err, "impact", c.Impact)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("this host lacks what a node needs: %s; run `wren check-config` for details", strings.Join(missing, "; "))
	}
	if err := unix.Mount("", "/", "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / a shared mount (for volume mount propagation): %w", err)
	}
	for key, value := range sysctls {
		if err := writeSysctl(key, value); err != nil {
			h.log.Warn("could not set sysctl", "key", strings.ReplaceAll(key, "/", "."), "value", value, "err", err)
		}
	}
	return h.clearStaleRunDir()
}

// clearStaleRunDir empties the runtime directory when it was written before
// the last boot. After a mere restart of wren it holds the state that lets
// containerd reconnect to running pods, so it is kept.
func (h *Host) clearStaleRunDir() error {
	bootID, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return err
	}
	marker := filepath.Join(h.runDir, "boot_id")
	if old, err := os.ReadFile(marker); err == nil && string(old) == string(bootID) {
		return nil
	}
	if _, err := os.Stat(h.runDir); err == nil {
		h.log.Info("clearing runtime state from before the last boot", "dir", h.runDir)
		if err := removeUnmounted(h.runDir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(h.runDir, 0o711); err != nil {
		return err
	}
	return os.WriteFile(marker, bootID, 0o644)
}

// removeUnmounted removes dir after unmounting anything below it.
func removeUnmounted(dir string) error {
	mounts, err := MountsUnder(dir)
	if err != nil {
		return err
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = unix.Unmount(mounts[i], unix.MNT_DETACH)
	}
	return os.RemoveAll(dir)
}

// Ready implements component.Component.
func (h *Host) Ready(context.Context) error { return nil }

// Stop implements component.Component; the settings stay for running pods.
func (h *Host) Stop(context.Context) error { return nil }

func writeSysctl(key, value string) error {
	path := filepath.Join("/proc/sys", key)
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == value {
		return nil
	}
	return os.WriteFile(path, []byte(value), 0o644)
}

// MountsUnder lists the mount points at or below dir, in mount order.
func MountsUnder(dir string) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, nil
}

// unescapeMount decodes the octal escapes (\040 for space) in mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var errNotFound = errors.New("not found")
