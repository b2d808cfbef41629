// SPDX-License-Identifier: Apache-2.0

// Package token is `wren token`: expiring bootstrap tokens (kubeadm's
// format, Secrets in kube-system) that agents can join with.
package token

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"

	"github.com/wren-k8s/wren/pkg/cli/serverclient"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/supervisor"
	"github.com/wren-k8s/wren/pkg/token"
)

// NewCommand returns `wren token` and its subcommands.
func NewCommand(stdout io.Writer) *cobra.Command {
	var kubeconfig string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage bootstrap tokens: expiring join tokens for agents",
	}
	cmd.PersistentFlags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default $KUBECONFIG, else "+config.DefaultKubeconfigPath()+")")
	client := func() (kubernetes.Interface, error) { return clientFor(kubeconfig) }
	cmd.AddCommand(createCommand(stdout, client), listCommand(stdout, client), deleteCommand(stdout, client), generateCommand(stdout),
		rotateCommand(stdout))
	return cmd
}

func createCommand(stdout io.Writer, client func() (kubernetes.Interface, error)) *cobra.Command {
	spec := token.BootstrapSpec{}
	cmd := &cobra.Command{
		Use:   "create [TOKEN]",
		Short: "Create a bootstrap token and print it as a full, CA-pinned join token",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				spec.Token = args[0]
			}
			cs, err := client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			hash, err := caHash(ctx, cs)
			if err != nil {
				return err
			}
			tok, err := token.CreateBootstrap(ctx, cs, spec, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, token.Token{CAHash: hash, User: token.UserNode, Secret: tok}.String())
			return nil
		},
	}
	f := cmd.Flags()
	f.DurationVar(&spec.TTL, "ttl", 24*time.Hour, "lifetime of the token (0: it never expires)")
	f.StringVar(&spec.Description, "description", "", "a human-readable note on the token")
	f.StringSliceVar(&spec.Usages, "usages", []string{"signing", "authentication"}, "what the token may be used for")
	f.StringSliceVar(&spec.Groups, "groups", []string{token.DefaultBootstrapGroup}, "extra groups the token authenticates as")
	return cmd
}

func listCommand(stdout io.Writer, client func() (kubernetes.Interface, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the bootstrap tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := client()
			if err != nil {
				return err
			}
			toks, err := token.ListBootstrap(cmd.Context(), cs)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TOKEN\tTTL\tEXPIRES\tUSAGES\tDESCRIPTION\tEXTRA GROUPS")
			now := time.Now()
			for _, t := range toks {
				ttl, expires := "<forever>", "<never>"
				if !t.Expires.IsZero() {
					expires = t.Expires.Format(time.RFC3339)
					ttl = "<expired>"
					if left := t.Expires.Sub(now); left > 0 {
						ttl = left.Round(time.Second).String()
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", bootstraputil.TokenFromIDAndSecret(t.ID, t.Secret), ttl, expires,
					strings.Join(t.Usages, ","), dash(t.Description), dash(strings.Join(t.Groups, ",")))
			}
			return w.Flush()
		},
	}
}

func deleteCommand(stdout io.Writer, client func() (kubernetes.Interface, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID|TOKEN...",
		Short: "Delete bootstrap tokens",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := client()
			if err != nil {
				return err
			}
			for _, a := range args {
				if t, err := token.Parse(a); err == nil && token.IsBootstrap(t.Secret) {
					a = t.Secret
				}
				if err := token.DeleteBootstrap(cmd.Context(), cs, a); err != nil {
					return err
				}
				id, _, _ := strings.Cut(a, ".")
				fmt.Fprintf(stdout, "bootstrap token %q deleted\n", id)
			}
			return nil
		},
	}
}

func generateCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "generate",
		Short: "Print a random bootstrap token (not stored)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			t, err := bootstraputil.GenerateBootstrapToken()
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, t)
			return nil
		},
	}
}

// clientFor loads kubeconfig like `wren kubectl` does.
func clientFor(kubeconfig string) (kubernetes.Interface, error) {
	if kubeconfig == "" {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	if kubeconfig == "" {
		kubeconfig = config.DefaultKubeconfigPath()
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
	}
	rc.Timeout = 30 * time.Second
	return kubernetes.NewForConfig(rc)
}

// caHash fetches the cluster's CA bundle from the supervisor, over the
// kubeconfig's verified connection, and hashes it as tokens pin it.
func caHash(ctx context.Context, cs kubernetes.Interface) (string, error) {
	ca, err := cs.CoreV1().RESTClient().Get().AbsPath("/cacerts").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("fetching the cluster CA from /cacerts: %w", err)
	}
	return token.CAHash(ca), nil
}

func dash(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func rotateCommand(stdout io.Writer) *cobra.Command {
	var f serverclient.Flags
	var newToken string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the server token; the old one is refused afterwards (joined nodes keep working with their certificates)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := serverclient.Load(cmd.Flags()); err != nil {
				return err
			}
			c, err := f.Dial(cmd.Context())
			if err != nil {
				return err
			}
			var out supervisor.TokenRotateResponse
			if err := c.Call(cmd.Context(), http.MethodPost, supervisor.PathToken, supervisor.TokenRotateRequest{NewToken: newToken}, &out); err != nil {
				return err
			}
			fmt.Fprintln(stdout, out.Token)
			return nil
		},
	}
	f.Bind(cmd.Flags())
	cmd.Flags().StringVar(&newToken, "new-token", "", "The new token (default: a random secret)")
	cmd.Flags().Lookup("token").Usage = "The current server token (default: <data-dir>/server/token) [$WREN_TOKEN]"
	return cmd
}
