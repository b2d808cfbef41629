// SPDX-License-Identifier: Apache-2.0

// Package config holds wren's typed configuration: defaults, the values derived
// from them (Complete) and the checks that run before anything starts
// (Validate). It knows nothing of flags or files; pkg/cli fills it.
package config

import (
	"os"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/internal/datadir"
)

// Default network settings, the same as k3s.
const (
	DefaultHTTPSPort     = 6443
	DefaultClusterCIDR   = "10.42.0.0/16"
	DefaultServiceCIDR   = "10.43.0.0/16"
	DefaultClusterDomain = "cluster.local"
	DefaultNodePortRange = "30000-32767"
	// DefaultControllerManagerPort and DefaultSchedulerPort are the upstream
	// secure ports, served on loopback only.
	DefaultControllerManagerPort = 10257
	DefaultSchedulerPort         = 10259
)

// Server is the configuration of `wren server`.
type Server struct {
	// DataDir holds all state: server/ (certs, datastore, token) and later agent/.
	DataDir string
	// BindAddress is where the API (and supervisor) listens.
	BindAddress Addr
	// HTTPSPort is the API port, 6443 by default.
	HTTPSPort int
	// AdvertiseAddress is the address published for the API (kubernetes
	// Service endpoint); the node IP when unset.
	AdvertiseAddress Addr
	// TLSSANs are extra names and IPs for the serving certificate.
	TLSSANs []string

	ClusterCIDR   Prefix
	ServiceCIDR   Prefix
	ClusterDNS    Addr
	ClusterDomain string
	NodePortRange PortRange

	// Token is the shared secret (or full W10 token) agents and servers join with.
	Token     string
	TokenFile string
	// AgentToken lets agents (only) join; agents use Token when it is empty.
	AgentToken     string
	AgentTokenFile string

	// EgressSelectorMode is how the apiserver reaches nodes, as k3s names
	// it: agent (kubelets through the agents' tunnels), pod (kubelets and
	// pods through the tunnels), cluster (as pod, and an agent lets the
	// server reach any address in the cluster CIDR), disabled (directly).
	EgressSelectorMode string

	// KubeconfigOutput is where the admin kubeconfig is written.
	KubeconfigOutput string
	KubeconfigMode   FileMode

	// DatastoreEndpoint is a kine DSN; SQLite under DataDir when empty.
	DatastoreEndpoint string
	// DatastoreCAFile, DatastoreCertFile and DatastoreKeyFile secure the
	// connection to an external datastore.
	DatastoreCAFile   string
	DatastoreCertFile string
	DatastoreKeyFile  string
	// DatastoreConnectTimeout bounds how long the datastore may stay unreachable at start.
	DatastoreConnectTimeout Duration

	DisableAgent bool

	// SecretsEncryption encrypts Secrets at rest with keys of
	// SecretsEncryptionProvider (aescbc or secretbox).
	SecretsEncryption         bool
	SecretsEncryptionProvider string

	// Disable lists bundled add-ons to keep out (and remove if deployed).
	Disable               []string
	DisableHelmController bool
	// DefaultLocalStoragePath is where local-path volumes live (<data-dir>/storage).
	DefaultLocalStoragePath string
	// SystemDefaultRegistry prefixes the bundled add-ons' image names.
	SystemDefaultRegistry string

	// Agent configures the node this server runs unless DisableAgent.
	Agent Agent

	// Extra upstream flags, "name=value", overriding wren's own.
	ExtraAPIServerArgs         []string
	ExtraControllerManagerArgs []string
	ExtraSchedulerArgs         []string

	Debug     bool
	Verbosity int
	VModule   string
	// EnablePProf serves Go's profiles at /debug/pprof/ on the API port, to
	// clients with an admin (system:masters) certificate.
	EnablePProf bool

	// Derived is filled by Complete; never set by users.
	Derived Derived
}

// SecretsEncryptionProviders are the key types --secrets-encryption-provider takes.
var SecretsEncryptionProviders = []string{"aescbc", "secretbox"}

// The --egress-selector-mode values this version implements.
const (
	EgressAgent    = "agent"
	EgressPod      = "pod"
	EgressCluster  = "cluster"
	EgressDisabled = "disabled"
)

// EgressSelectorModes lists them.
var EgressSelectorModes = []string{EgressAgent, EgressPod, EgressCluster, EgressDisabled}

// DefaultServer returns a Server with k3s's defaults.
func DefaultServer() *Server {
	s := &Server{
		DataDir:                   DefaultDataDir(),
		HTTPSPort:                 DefaultHTTPSPort,
		ClusterCIDR:               MustPrefix(DefaultClusterCIDR),
		ServiceCIDR:               MustPrefix(DefaultServiceCIDR),
		ClusterDomain:             DefaultClusterDomain,
		KubeconfigOutput:          DefaultKubeconfigPath(),
		KubeconfigMode:            0o600,
		DatastoreConnectTimeout:   Duration(defaultDatastoreConnectTimeout),
		EgressSelectorMode:        EgressAgent,
		SecretsEncryptionProvider: "aescbc",
		Agent:                     DefaultAgent(),
	}
	_ = s.BindAddress.Set("0.0.0.0")
	_ = s.NodePortRange.Set(DefaultNodePortRange)
	return s
}

// DefaultDataDir is /var/lib/wren for root and ~/.wren otherwise.
func DefaultDataDir() string { return datadir.Default() }

// DefaultKubeconfigPath is /etc/wren/wren.yaml for root and ~/.kube/wren.yaml otherwise.
func DefaultKubeconfigPath() string {
	if os.Geteuid() == 0 {
		return "/etc/wren/wren.yaml"
	}
	return filepath.Join(homeDir(), ".kube", "wren.yaml")
}

// DefaultConfigFile is the config file read when --config is not given.
const DefaultConfigFile = datadir.ConfigFile

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/tmp"
}
