// SPDX-License-Identifier: Apache-2.0

// Package certificate is `wren certificate`: the node's and the server's
// certificates and when they expire.
package certificate

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/pki"
)

// NewCommand returns `wren certificate` and its subcommands.
func NewCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "certificate", Short: "Inspect and renew wren's certificates"}
	cmd.AddCommand(checkCommand(stdout), rotateCommand(stdout), rotateCACommand(stdout))
	return cmd
}

func checkCommand(stdout io.Writer) *cobra.Command {
	dataDir := config.DefaultDataDir()
	cmd := &cobra.Command{
		Use:   "check",
		Short: "List every certificate in the data dir with its expiry (WARNING within 90 days)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dirs := []string{filepath.Join(dataDir, "server", "tls"), filepath.Join(dataDir, "agent", "tls")}
			certs, err := pki.Inventory(dirs...)
			if err != nil {
				return err
			}
			if len(certs) == 0 {
				return fmt.Errorf("--data-dir %s: no certificates under %s: is it a wren data dir?", dataDir, strings.Join(dirs, " or "))
			}
			now := time.Now()
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "FILE\tSUBJECT\tCA\tEXPIRES\tREMAINING\tSTATUS")
			for _, c := range certs {
				rel, _ := filepath.Rel(dataDir, c.Path)
				fmt.Fprintf(w, "%s\t%s\t%t\t%s\t%s\t%s\n", rel, c.Subject, c.IsCA, c.NotAfter.UTC().Format(time.RFC3339),
					remaining(c.NotAfter.Sub(now)), c.Status(now))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVarP(&dataDir, "data-dir", "d", dataDir, "Data directory of the node")
	return cmd
}

func remaining(d time.Duration) string {
	switch {
	case d <= 0:
		return "0d"
	case d < 24*time.Hour:
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func rotateCommand(stdout io.Writer) *cobra.Command {
	dataDir := config.DefaultDataDir()
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Renew every leaf certificate of a server's data dir now (its node's too); a running server uses them at once",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			serverTLS, err := serverTLSDir(dataDir)
			if err != nil {
				return err
			}
			files, err := pki.RotateLeaves(pki.Paths{Dir: serverTLS}, time.Now(), serverTLS, filepath.Join(dataDir, "agent", "tls"))
			for _, f := range files {
				rel, _ := filepath.Rel(dataDir, f)
				fmt.Fprintf(stdout, "renewed %s\n", rel)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&dataDir, "data-dir", "d", dataDir, "Data directory of the server")
	return cmd
}
