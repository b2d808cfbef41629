// SPDX-License-Identifier: Apache-2.0

// Package checkconfig is the `wren check-config` command.
package checkconfig

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/node"
)

// NewCommand returns `wren check-config`, which lists the host features a
// node needs, each with the fix when it fails, and exits non-zero when a
// required one is missing.
func NewCommand(out io.Writer) *cobra.Command {
	dataDir := config.DefaultDataDir()
	cmd := &cobra.Command{
		Use:   "check-config",
		Short: "Check that this host has what a wren node needs, and say how to fix what it lacks",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var ok, warn, missing int
			for _, c := range node.ExtendedChecks(dataDir) {
				err := c.Run()
				switch {
				case err == nil || node.KernelConfigMissing(err):
					ok++
					info := ""
					if c.Info != nil {
						info = c.Info()
					}
					if err != nil {
						info = err.Error() + ": the checks above tried the features themselves"
					}
					if info != "" {
						info = ": " + info
					}
					fmt.Fprintf(out, "%-8s %s%s\n", "ok", c.Name, info)
					continue
				case c.Required:
					missing++
					fmt.Fprintf(out, "%-8s %s: %v\n", "MISSING", c.Name, err)
				default:
					warn++
					fmt.Fprintf(out, "%-8s %s: %v (%s)\n", "warn", c.Name, err, c.Impact)
				}
				if c.Fix != "" {
					fmt.Fprintf(out, "%-8s fix: %s\n", "", c.Fix)
				}
			}
			fmt.Fprintf(out, "\n%d ok, %d warnings, %d missing\n", ok, warn, missing)
			if missing > 0 {
				return errors.New("required host features are missing (see the fixes above)")
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&dataDir, "data-dir", "d", dataDir, "Data dir whose free space to check")
	return cmd
}
