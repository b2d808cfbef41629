// SPDX-License-Identifier: Apache-2.0

//go:build wren_crictl

package tools

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	crictl "github.com/wren-k8s/wren/build/_gen/crictl"
)

// runCrictl runs the crictl built into this binary (scripts/build.sh).
func runCrictl(args []string) error {
	// NOTE: urfave/cli's version printer is global, and containerd's ctr
	// (linked in too) replaces it; crictl prints its version as upstream does.
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "%s version %s\n", c.App.Name, c.App.Version) }
	os.Args = append([]string{"crictl"}, args...)
	crictl.Main()
	return nil
}
