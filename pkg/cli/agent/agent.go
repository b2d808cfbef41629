// SPDX-License-Identifier: Apache-2.0

// Package agent is the `wren agent` command.
package agent

import (
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wren-k8s/wren/pkg/agent"
	"github.com/wren-k8s/wren/pkg/cli/flagsource"
	"github.com/wren-k8s/wren/pkg/cli/nodeflags"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/internal/logging"
)

// NewCommand returns `wren agent`; logs go to logOut.
func NewCommand(logOut io.Writer) *cobra.Command {
	cfg := config.DefaultRemoteAgent()
	configFile := config.DefaultConfigFile
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a node that joins a wren server (outbound connections to the server's port only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsource.Load(cmd.Flags(), configFile); err != nil {
				return err
			}
			if err := cfg.Complete(); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			log := logging.New(logOut, logging.Options{Debug: cfg.Debug, Verbosity: cfg.Verbosity, VModule: cfg.VModule})
			return agent.Run(cmd.Context(), cfg, log)
		},
	}
	bindFlags(cmd.Flags(), cfg, &configFile)
	return cmd
}

func bindFlags(fs *pflag.FlagSet, c *config.RemoteAgent, configFile *string) {
	fs.SortFlags = false
	fs.StringVarP(configFile, "config", "c", *configFile, "Load configuration from `FILE` (and FILE.d/*.yaml)")
	fs.StringVarP(&c.DataDir, "data-dir", "d", c.DataDir, "Folder to hold state")
	fs.BoolVar(&c.Debug, "debug", c.Debug, "Turn on debug logs")
	fs.IntVarP(&c.Verbosity, "v", "v", c.Verbosity, "Log verbosity of the embedded Kubernetes components")
	fs.StringVar(&c.VModule, "vmodule", c.VModule, "Per-file log verbosity of the embedded Kubernetes components (pattern=N,...)")
	fs.StringVarP(&c.ServerURL, "server", "s", c.ServerURL, "Server to join, https://host:6443")
	fs.StringVarP(&c.Token, "token", "t", c.Token, "Join token (the server's W10... token or agent token)")
	fs.StringVar(&c.TokenFile, "token-file", c.TokenFile, "File holding the join token")
	fs.IntVar(&c.LBServerPort, "lb-server-port", c.LBServerPort, "Local port of the client load balancer in front of the servers")
	fs.BoolVar(&c.WithNodeID, "with-node-id", c.WithNodeID, "Append a random id to the node name (for cloned images)")
	for flag, env := range map[string]string{
		"data-dir":       "WREN_DATA_DIR",
		"debug":          "WREN_DEBUG",
		"server":         "WREN_URL",
		"token":          "WREN_TOKEN",
		"token-file":     "WREN_TOKEN_FILE",
		"lb-server-port": "WREN_LB_SERVER_PORT",
		"with-node-id":   "WREN_WITH_NODE_ID",
	} {
		flagsource.BindEnv(fs, flag, env)
	}
	fs.Lookup("config").Usage += " [$WREN_CONFIG_FILE]"
	nodeflags.Bind(fs, &c.Agent)
}
