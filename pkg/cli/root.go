// SPDX-License-Identifier: Apache-2.0

// Package cli is wren's command line: the root command and one subpackage per
// verb. Commands turn flags into typed configuration and hand it on; they hold
// no business logic.
package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wren-k8s/wren/pkg/cli/agent"
	"github.com/wren-k8s/wren/pkg/cli/certificate"
	"github.com/wren-k8s/wren/pkg/cli/checkconfig"
	"github.com/wren-k8s/wren/pkg/cli/coredns"
	"github.com/wren-k8s/wren/pkg/cli/killall"
	"github.com/wren-k8s/wren/pkg/cli/kubectl"
	"github.com/wren-k8s/wren/pkg/cli/metricsserver"
	"github.com/wren-k8s/wren/pkg/cli/secretsencrypt"
	"github.com/wren-k8s/wren/pkg/cli/server"
	tokencmd "github.com/wren-k8s/wren/pkg/cli/token"
	"github.com/wren-k8s/wren/pkg/cli/tools"
	"github.com/wren-k8s/wren/pkg/version"
)

// multicall maps an argv[0] name to the wren subcommand it stands for.
// The bundled add-on images are a symlink to the node's wren binary
// (/coredns, /metrics-server), so their pods run it under those names.
var multicall = map[string]string{"kubectl": "kubectl", "crictl": "crictl", "ctr": "ctr", "containerd": "containerd",
	"coredns": "coredns", "metrics-server": "metrics-server"}

// Run executes wren with args (os.Args) and returns the exit code. When the
// binary is invoked through a symlink named like a bundled tool, it acts as it.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if sub, ok := multicall[filepath.Base(args[0])]; ok {
		args = append([]string{"wren", sub}, args[1:]...)
	}
	// The bundled tools own their flags and exit codes.
	if len(args) > 1 {
		switch args[1] {
		case "kubectl":
			return kubectl.Run(args[2:], stdout, stderr)
		case "containerd":
			return tools.Containerd(ctx, args[2:], stderr)
		case "ctr":
			return tools.Ctr(ctx, args[2:], stderr)
		case "crictl":
			return tools.Crictl(args[2:], stderr)
		case "coredns":
			return coredns.Run(args[2:])
		case "metrics-server":
			return metricsserver.Run(ctx, args[2:], stderr)
		}
	}
	// Kubernetes packages register flags (--version among them) on the global
	// flag set at init; cobra would merge them into wren's commands.
	pflag.CommandLine = pflag.NewFlagSet(args[0], pflag.ContinueOnError)
	root := NewRootCommand(stdout, stderr)
	root.SetArgs(args[1:])
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "wren: %v\n", err)
		return 1
	}
	return 0
}

// NewRootCommand builds the wren command tree.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "wren",
		Short:         "wren: a lightweight Kubernetes distribution in one binary",
		Version:       version.Full(),
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
	}
	root.SetVersionTemplate(version.Long())
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(server.NewCommand(stderr), agent.NewCommand(stderr), checkconfig.NewCommand(stdout), killall.NewCommand(stderr),
		tokencmd.NewCommand(stdout), certificate.NewCommand(stdout), secretsencrypt.NewCommand(stdout))
	// Listed for help; Run dispatches them before cobra parses anything.
	for name, short := range map[string]string{
		"kubectl":        "Run the bundled kubectl against this cluster",
		"crictl":         "Run the bundled crictl against this node's containerd",
		"ctr":            "Run containerd's ctr against this node's containerd",
		"coredns":        "Run CoreDNS (the bundled cluster DNS)",
		"metrics-server": "Run metrics-server (the bundled resource metrics API)",
	} {
		root.AddCommand(&cobra.Command{Use: name, Short: short, DisableFlagParsing: true,
			RunE: func(*cobra.Command, []string) error { return fmt.Errorf("%s must be the first argument", name) }})
	}
	return root
}
