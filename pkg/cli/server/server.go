// SPDX-License-Identifier: Apache-2.0

// Package server is the `wren server` command.
package server

import (
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wren-k8s/wren/pkg/cli/flagsource"
	"github.com/wren-k8s/wren/pkg/cli/nodeflags"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/control"
	"github.com/wren-k8s/wren/pkg/internal/logging"
	"github.com/wren-k8s/wren/pkg/server"
)

// NewCommand returns `wren server`; logs go to logOut.
func NewCommand(logOut io.Writer) *cobra.Command {
	cfg := config.DefaultServer()
	configFile := config.DefaultConfigFile
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a Kubernetes control plane (and, by default, a node) in this process",
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
			if err := control.ValidateExtraArgs(cfg.ExtraAPIServerArgs, cfg.ExtraControllerManagerArgs, cfg.ExtraSchedulerArgs); err != nil {
				return err
			}
			log := logging.New(logOut, logging.Options{Debug: cfg.Debug, Verbosity: cfg.Verbosity, VModule: cfg.VModule})
			return server.Run(cmd.Context(), cfg, log)
		},
	}
	bindFlags(cmd.Flags(), cfg, &configFile)
	return cmd
}

func bindFlags(fs *pflag.FlagSet, c *config.Server, configFile *string) {
	fs.SortFlags = false
	fs.StringVarP(configFile, "config", "c", *configFile, "Load configuration from `FILE` (and FILE.d/*.yaml)")
	fs.StringVarP(&c.DataDir, "data-dir", "d", c.DataDir, "Folder to hold state")
	fs.BoolVar(&c.Debug, "debug", c.Debug, "Turn on debug logs")
	fs.IntVarP(&c.Verbosity, "v", "v", c.Verbosity, "Log verbosity of the embedded Kubernetes components")
	fs.StringVar(&c.VModule, "vmodule", c.VModule, "Per-file log verbosity of the embedded Kubernetes components (pattern=N,...)")
	fs.BoolVar(&c.EnablePProf, "enable-pprof", c.EnablePProf, "Serve Go profiles at /debug/pprof/ on the API port (admin client certificates only)")

	fs.Var(&c.BindAddress, "bind-address", "Address the API listens on")
	fs.IntVar(&c.HTTPSPort, "https-listen-port", c.HTTPSPort, "Port the API listens on")
	fs.Var(&c.AdvertiseAddress, "advertise-address", "Address published for the API (default: node IP)")
	fs.StringSliceVar(&c.TLSSANs, "tls-san", c.TLSSANs, "Extra hostname or IP for the API serving certificate")

	fs.Var(&c.ClusterCIDR, "cluster-cidr", "IP range for pod IPs")
	fs.Var(&c.ServiceCIDR, "service-cidr", "IP range for service IPs")
	fs.Var(&c.ClusterDNS, "cluster-dns", "IP of the cluster DNS service (default: 10th IP of --service-cidr)")
	fs.StringVar(&c.ClusterDomain, "cluster-domain", c.ClusterDomain, "Cluster domain")
	fs.Var(&c.NodePortRange, "service-node-port-range", "Port range for NodePort services")

	fs.StringVarP(&c.Token, "token", "t", c.Token, "Shared secret (or full W10 token) nodes join with")
	fs.StringVar(&c.TokenFile, "token-file", c.TokenFile, "File holding the token")
	fs.StringVar(&c.AgentToken, "agent-token", c.AgentToken, "Shared secret agents (only) join with (default: --token)")
	fs.StringVar(&c.AgentTokenFile, "agent-token-file", c.AgentTokenFile, "File holding the agent token")
	fs.StringVar(&c.EgressSelectorMode, "egress-selector-mode", c.EgressSelectorMode, "How the API reaches nodes: agent (kubelets through the agents' tunnels), pod (kubelets and pods), cluster (and the cluster CIDR) or disabled (directly)")

	fs.BoolVar(&c.SecretsEncryption, "secrets-encryption", c.SecretsEncryption, "Encrypt Secrets at rest (keys managed by wren secrets-encrypt)")
	fs.StringVar(&c.SecretsEncryptionProvider, "secrets-encryption-provider", c.SecretsEncryptionProvider, "Type of the encryption keys: aescbc or secretbox")

	fs.StringVarP(&c.KubeconfigOutput, "write-kubeconfig", "o", c.KubeconfigOutput, "Write the admin kubeconfig to this file")
	fs.Var(&c.KubeconfigMode, "write-kubeconfig-mode", "Permissions of the admin kubeconfig (octal)")

	fs.StringVar(&c.DatastoreEndpoint, "datastore-endpoint", c.DatastoreEndpoint, "Datastore: sqlite://, postgres://, mysql:// or https:// (etcd) (default: SQLite in --data-dir)")
	fs.StringVar(&c.DatastoreCAFile, "datastore-cafile", c.DatastoreCAFile, "CA file for the datastore connection")
	fs.StringVar(&c.DatastoreCertFile, "datastore-certfile", c.DatastoreCertFile, "Client certificate for the datastore connection")
	fs.StringVar(&c.DatastoreKeyFile, "datastore-keyfile", c.DatastoreKeyFile, "Client key for the datastore connection")
	fs.Var(&c.DatastoreConnectTimeout, "datastore-connect-timeout", "How long the datastore may stay unreachable at start")

	fs.BoolVar(&c.DisableAgent, "disable-agent", c.DisableAgent, "Run the control plane only, no node")
	fs.StringSliceVar(&c.Disable, "disable", nil, "Bundled add-on to keep out and remove: coredns, local-storage, metrics-server, servicelb, helm-controller")
	fs.BoolVar(&c.DisableHelmController, "disable-helm-controller", c.DisableHelmController, "Do not run the HelmChart controller")
	fs.StringVar(&c.DefaultLocalStoragePath, "default-local-storage-path", c.DefaultLocalStoragePath, "Directory of local-path volumes (default <data-dir>/storage)")
	fs.StringVar(&c.SystemDefaultRegistry, "system-default-registry", c.SystemDefaultRegistry, "Registry to prefix the bundled add-ons' images with")
	fs.StringArrayVar(&c.ExtraAPIServerArgs, "kube-apiserver-arg", nil, "Extra kube-apiserver flag (name=value)")
	fs.StringArrayVar(&c.ExtraControllerManagerArgs, "kube-controller-manager-arg", nil, "Extra kube-controller-manager flag (name=value)")
	fs.StringArrayVar(&c.ExtraSchedulerArgs, "kube-scheduler-arg", nil, "Extra kube-scheduler flag (name=value)")

	for flag, env := range map[string]string{
		"data-dir":              "WREN_DATA_DIR",
		"debug":                 "WREN_DEBUG",
		"token":                 "WREN_TOKEN",
		"token-file":            "WREN_TOKEN_FILE",
		"agent-token":           "WREN_AGENT_TOKEN",
		"agent-token-file":      "WREN_AGENT_TOKEN_FILE",
		"write-kubeconfig":      "WREN_KUBECONFIG_OUTPUT",
		"write-kubeconfig-mode": "WREN_KUBECONFIG_MODE",
		"datastore-endpoint":    "WREN_DATASTORE_ENDPOINT",
		"datastore-cafile":      "WREN_DATASTORE_CAFILE",
		"datastore-certfile":    "WREN_DATASTORE_CERTFILE",
		"datastore-keyfile":     "WREN_DATASTORE_KEYFILE",
		"disable-agent":         "WREN_DISABLE_AGENT",
		"cluster-cidr":          "WREN_CLUSTER_CIDR",
		"service-cidr":          "WREN_SERVICE_CIDR",
		"https-listen-port":     "WREN_HTTPS_LISTEN_PORT",
		"secrets-encryption":    "WREN_SECRETS_ENCRYPTION",
	} {
		flagsource.BindEnv(fs, flag, env)
	}
	fs.Lookup("config").Usage += " [$WREN_CONFIG_FILE]"
	nodeflags.Bind(fs, &c.Agent)
}
