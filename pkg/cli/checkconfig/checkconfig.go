// SPDX-License-Identifier: Apache-2.0

// Package checkconfig is the `wren check-config` command.
package checkconfig

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wren-k8s/wren/pkg/node"
)

// NewCommand returns `wren check-config`, which lists the host features a
// node needs and exits non-zero when a required one is missing.
func NewCommand(out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "check-config",
		Short: "Check that this host has what a wren node needs",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			missing := 0
			for _, c := range node.Checks() {
				status, detail := "ok", ""
				if err := c.Run(); err != nil {
					status, detail = "warn", fmt.Sprintf(" (%v; %s)", err, c.Impact)
					if c.Required {
						status, detail = "MISSING", fmt.Sprintf(" (%v)", err)
						missing++
					}
				}
				fmt.Fprintf(out, "%-8s %s%s\n", status, c.Name, detail)
			}
			if missing > 0 {
				return errors.New("required host features are missing")
			}
			return nil
		},
	}
}
