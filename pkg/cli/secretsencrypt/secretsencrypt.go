// SPDX-License-Identifier: Apache-2.0

// Package secretsencrypt is `wren secrets-encrypt`: the state of Secrets
// encryption at rest and the commands that change and rotate its keys, run
// by the server.
package secretsencrypt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wren-k8s/wren/pkg/cli/serverclient"
	"github.com/wren-k8s/wren/pkg/join"
	se "github.com/wren-k8s/wren/pkg/secretsencrypt"
	"github.com/wren-k8s/wren/pkg/supervisor"
)

// NewCommand returns `wren secrets-encrypt` and its subcommands.
func NewCommand(stdout io.Writer) *cobra.Command {
	var f serverclient.Flags
	cmd := &cobra.Command{
		Use:   "secrets-encrypt",
		Short: "Control Secrets encryption at rest and rotate its keys",
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return serverclient.Load(cmd.Flags())
		},
	}
	f.Bind(cmd.PersistentFlags())
	cmd.AddCommand(statusCommand(stdout, &f))
	for _, c := range []struct{ name, short string }{
		{se.CmdEnable, "Encrypt new writes (then reencrypt to encrypt the Secrets already stored)"},
		{se.CmdDisable, "Write Secrets in plain text (then reencrypt to decrypt the Secrets already stored)"},
		{se.CmdPrepare, "Add a new key, known for reading only (rotation step 1)"},
		{se.CmdRotate, "Make the prepared key the one new writes use (rotation step 2)"},
		{se.CmdReencrypt, "Rewrite every Secret with the active key and drop the others (rotation step 3)"},
		{se.CmdRotateKeys, "Rotate in one step: a new active key, every Secret rewritten, old keys dropped"},
	} {
		cmd.AddCommand(commandFor(stdout, &f, c.name, c.short))
	}
	return cmd
}

func statusCommand(stdout io.Writer, f *serverclient.Flags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether Secrets are encrypted, the rotation stage and the keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Dial(cmd.Context())
			if err != nil {
				return err
			}
			st, err := status(cmd.Context(), c)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return printStatus(stdout, st)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json for the machine-readable form")
	return cmd
}

func status(ctx context.Context, c *join.Client) (se.Status, error) {
	var st se.Status
	return st, c.Call(ctx, http.MethodGet, supervisor.PathEncryptStatus, nil, &st)
}

func commandFor(stdout io.Writer, f *serverclient.Flags, name, short string) *cobra.Command {
	var noWait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := f.Dial(ctx)
			if err != nil {
				return err
			}
			var st se.Status
			if err := c.Call(ctx, http.MethodPost, supervisor.PathEncryptConfig, supervisor.EncryptRequest{Command: name}, &st); err != nil {
				return err
			}
			if name == se.CmdReencrypt || name == se.CmdRotateKeys {
				if noWait {
					fmt.Fprintln(stdout, "re-encryption started: see `wren secrets-encrypt status`")
					return nil
				}
				if st, err = waitFinished(ctx, c, timeout); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "re-encrypted %d Secrets\n", st.Reencrypted)
			}
			return printStatus(stdout, st)
		},
	}
	if name == se.CmdReencrypt || name == se.CmdRotateKeys {
		cmd.Flags().BoolVar(&noWait, "no-wait", false, "Return once the re-encryption started")
		cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "How long to wait for the re-encryption")
	}
	return cmd
}

// waitFinished polls the status until the re-encryption is done.
func waitFinished(ctx context.Context, c *join.Client, timeout time.Duration) (se.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		st, err := status(ctx, c)
		if err == nil && st.Stage == se.StageReencryptFinished {
			return st, nil
		}
		select {
		case <-ctx.Done():
			msg := "still " + st.Stage
			if st.LastError != "" {
				msg += ": " + st.LastError
			}
			if err != nil {
				msg = err.Error()
			}
			return st, fmt.Errorf("re-encryption not finished within %s (%s); it goes on in the server", timeout, msg)
		case <-time.After(time.Second):
		}
	}
}

func printStatus(w io.Writer, st se.Status) error {
	if !st.Configured {
		_, err := fmt.Fprintln(w, "Encryption Status: Disabled, no configuration file found (start the server with --secrets-encryption)")
		return err
	}
	state := "Disabled"
	if st.Enabled {
		state = "Enabled"
	}
	fmt.Fprintf(w, "Encryption Status: %s\n", state)
	fmt.Fprintf(w, "Current Rotation Stage: %s\n", st.Stage)
	if st.FileHash == st.LoadedHash {
		fmt.Fprintln(w, "Server Encryption Hashes: All hashes match")
	} else {
		fmt.Fprintf(w, "Server Encryption Hashes: the apiserver runs %s, the file is %s (a change is being loaded)\n", st.LoadedHash, st.FileHash)
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "Last Error: %s\n", st.LastError)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Active\tKey Type\tName")
	fmt.Fprintln(tw, "------\t--------\t----")
	for _, k := range st.Keys {
		active := ""
		if k.Name == st.ActiveKey {
			active = " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", active, keyType(k.Provider), k.Name)
	}
	return tw.Flush()
}

func keyType(provider string) string {
	switch provider {
	case se.ProviderAESCBC:
		return "AES-CBC"
	case se.ProviderSecretbox:
		return "XSalsa20-Poly1305"
	}
	return provider
}
