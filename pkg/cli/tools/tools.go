// SPDX-License-Identifier: Apache-2.0

// Package tools runs the bundled node tools: containerd (as wren's child
// process), ctr and crictl, defaulting to this node's containerd.
package tools

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	// The plugins of a normal containerd build, CRI included; build tags
	// leave out btrfs, zfs and devmapper.
	_ "github.com/containerd/containerd/v2/cmd/containerd/builtins"
	containerdcmd "github.com/containerd/containerd/v2/cmd/containerd/command"
	ctrapp "github.com/containerd/containerd/v2/cmd/ctr/app"

	"github.com/wren-k8s/wren/pkg/config"
)

// Containerd runs containerd in this process (wren re-executes itself as
// "wren containerd --config ..."). It stops on SIGTERM.
func Containerd(ctx context.Context, args []string, stderr io.Writer) int {
	if err := containerdcmd.App().RunContext(ctx, append([]string{"containerd"}, args...)); err != nil {
		fmt.Fprintln(stderr, "containerd:", err)
		return 1
	}
	return 0
}

func socket() string {
	return filepath.Join(config.DefaultRunDir, "containerd", "containerd.sock")
}

// Ctr runs containerd's ctr against the node's containerd, in the Kubernetes
// namespace unless told otherwise.
func Ctr(ctx context.Context, args []string, stderr io.Writer) int {
	setDefault("CONTAINERD_ADDRESS", socket())
	setDefault("CONTAINERD_NAMESPACE", "k8s.io")
	if err := ctrapp.New().RunContext(ctx, append([]string{"ctr"}, args...)); err != nil {
		fmt.Fprintln(stderr, "ctr:", err)
		return 1
	}
	return 0
}

// Crictl runs crictl against the node's containerd.
func Crictl(args []string, stderr io.Writer) int {
	dataDir := os.Getenv("WREN_DATA_DIR")
	if dataDir == "" {
		dataDir = config.DefaultDataDir()
	}
	setDefault("CRI_CONFIG_FILE", filepath.Join(dataDir, "agent", "etc", "crictl.yaml"))
	if err := runCrictl(args); err != nil {
		fmt.Fprintln(stderr, "crictl:", err)
		return 1
	}
	return 0
}

func setDefault(key, value string) {
	if os.Getenv(key) == "" {
		_ = os.Setenv(key, value)
	}
}
