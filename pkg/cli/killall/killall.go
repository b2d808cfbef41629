// SPDX-License-Identifier: Apache-2.0

// Package killall is the `wren killall` command.
package killall

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/killall"
)

// NewCommand returns `wren killall`.
func NewCommand(logOut io.Writer) *cobra.Command {
	o := killall.Options{DataDir: config.DefaultDataDir(), RunDir: config.DefaultRunDir, KubeletRootDir: config.DefaultKubeletRootDir}
	cmd := &cobra.Command{
		Use:   "killall",
		Short: "Stop wren, containerd and every container, and clean up mounts, interfaces and firewall rules",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			o.Log = slog.New(slog.NewTextHandler(logOut, nil))
			return killall.Run(o)
		},
	}
	cmd.Flags().StringVarP(&o.DataDir, "data-dir", "d", o.DataDir, "Data directory of the node")
	return cmd
}
