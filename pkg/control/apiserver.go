// SPDX-License-Identifier: Apache-2.0

package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	controlplaneapiserver "k8s.io/kubernetes/pkg/controlplane/apiserver"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/internal/cliargs"
	"github.com/wren-k8s/wren/pkg/internal/healthz"
	"github.com/wren-k8s/wren/pkg/pki"
)

// shutdownTimeout bounds how long the apiserver waits for open requests to
// finish once it stopped listening.
const shutdownTimeout = 3 * time.Second

// APIServerConfig is what kube-apiserver needs from wren's configuration.
type APIServerConfig struct {
	BindAddress   netip.Addr
	Port          int
	AdvertiseIP   netip.Addr
	ServiceCIDR   netip.Prefix
	NodePortRange string
	ClusterDomain string
	// Certs locates the server's certificates.
	Certs pki.Paths
	// EtcdCAFile, EtcdCertFile and EtcdKeyFile secure an external etcd.
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// EgressConfigFile, when set, is where the apiserver's egress selector
	// configuration is written: kubelet traffic then goes through the
	// supervisor's EgressSocket (and the agents' tunnels).
	EgressConfigFile string
	EgressSocket     string
	// EncryptionConfigFile, when set, encrypts Secrets at rest; the
	// apiserver reloads it when it changes (key rotation).
	EncryptionConfigFile string
	// AuditPolicyFile is where wren's default audit policy is written when
	// the extra args turn audit logging on without a policy.
	AuditPolicyFile string
	// SingleServer is set on SQLite, which serves one server only. The
	// apiserver then leaves out the periodic writes that let several servers
	// find each other, most of an idle cluster's datastore writes (SD cards):
	// the kubernetes Service's endpoints are kept by count
	// (endpoint-reconciler-type master-count: no lease every 10 s), the peer
	// proxy and its endpoint leases are off (feature gate
	// UnknownVersionInteroperabilityProxy; there is no peer), and the identity
	// lease (valid an hour) is renewed every minute instead of every 10 s.
	// --kube-apiserver-arg endpoint-reconciler-type=lease and
	// feature-gates=UnknownVersionInteroperabilityProxy=true bring the
	// upstream behaviour back; other feature gates leave it as it is.
	SingleServer bool
	ExtraArgs    []string
}

// singleServerIdentityRenew is how often a single server renews its identity
// lease (upstream: 10 s, for a lease of an hour).
const singleServerIdentityRenew = time.Minute

// Etcd gives the apiserver its storage endpoints once the datastore is ready.
type Etcd interface {
	Endpoints() []string
}

// HandlerWrapper puts wren's own handlers (the supervisor) in front of the
// apiserver's full handler chain, on the same port. authn is the apiserver's
// own request authenticator, so wrapped handlers authenticate exactly as it does.
type HandlerWrapper func(apiserver http.Handler, authn authenticator.Request) http.Handler

// APIServer runs kube-apiserver in-process.
type APIServer struct {
	cfg   APIServerConfig
	etcd  Etcd
	wrap  HandlerWrapper
	log   *slog.Logger
	ready *healthz.Probe
	component.Task
}

var (
	_ component.Component = (*APIServer)(nil)
	_ component.Exiter    = (*APIServer)(nil)
)

// NewAPIServer returns the kube-apiserver component.
func NewAPIServer(cfg APIServerConfig, etcd Etcd, wrap HandlerWrapper, log *slog.Logger) *APIServer {
	return &APIServer{cfg: cfg, etcd: etcd, wrap: wrap, log: log}
}

// Name implements component.Component.
func (a *APIServer) Name() string { return "kube-apiserver" }

// URL is the address local clients use: loopback unless bound to one address.
func (a *APIServer) URL() string { return config.LocalAPIURL(a.cfg.BindAddress, a.cfg.Port) }

func (a *APIServer) args() (map[string]string, error) {
	p := a.cfg.Certs
	servingCert, servingKey := p.ServingAPIServer()
	kubeletCert, kubeletKey := p.Client(pki.ClientKubeAPIServer)
	proxyCert, proxyKey := p.Client(pki.ClientAuthProxy)
	issuer := "https://kubernetes.default.svc." + a.cfg.ClusterDomain
	args := map[string]string{
		"advertise-address":                  a.cfg.AdvertiseIP.String(),
		"allow-privileged":                   "true",
		"anonymous-auth":                     "false",
		"api-audiences":                      issuer,
		"authorization-mode":                 "Node,RBAC",
		"client-ca-file":                     p.ClientCA(),
		"enable-admission-plugins":           "NodeRestriction",
		"etcd-servers":                       strings.Join(a.etcd.Endpoints(), ","),
		"kubelet-certificate-authority":      p.ServerCA(),
		"kubelet-client-certificate":         kubeletCert,
		"kubelet-client-key":                 kubeletKey,
		"kubelet-preferred-address-types":    "InternalIP,ExternalIP,Hostname",
		"profiling":                          "false",
		"proxy-client-cert-file":             proxyCert,
		"proxy-client-key-file":              proxyKey,
		"requestheader-allowed-names":        "system:auth-proxy",
		"requestheader-client-ca-file":       p.RequestHeaderCA(),
		"requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"requestheader-group-headers":        "X-Remote-Group",
		"requestheader-username-headers":     "X-Remote-User",
		"service-account-issuer":             issuer,
		"service-account-key-file":           p.ServiceAccountKey(),
		"service-account-signing-key-file":   p.ServiceAccountKey(),
		"service-cluster-ip-range":           a.cfg.ServiceCIDR.String(),
		"service-node-port-range":            a.cfg.NodePortRange,
		"tls-cert-file":                      servingCert,
		"tls-private-key-file":               servingKey,
		"tls-min-version":                    "VersionTLS12",
	}
	if a.cfg.SingleServer {
		args["endpoint-reconciler-type"] = "master-count"
	}
	if a.cfg.EtcdCAFile != "" {
		args["etcd-cafile"] = a.cfg.EtcdCAFile
	}
	if a.cfg.EgressConfigFile != "" {
		args["egress-selector-config-file"] = a.cfg.EgressConfigFile
	}
	if a.cfg.EncryptionConfigFile != "" {
		args["encryption-provider-config"] = a.cfg.EncryptionConfigFile
		args["encryption-provider-config-automatic-reload"] = "true"
	}
	if a.cfg.EtcdCertFile != "" {
		args["etcd-certfile"], args["etcd-keyfile"] = a.cfg.EtcdCertFile, a.cfg.EtcdKeyFile
	}
	return args, auditArgs(args, a.cfg.ExtraArgs, a.cfg.AuditPolicyFile)
}

// Start listens on the API port, builds the apiserver from its options and
// runs it in the background.
func (a *APIServer) Start(ctx context.Context) error {
	if a.cfg.EgressConfigFile != "" {
		if err := os.MkdirAll(filepath.Dir(a.cfg.EgressConfigFile), 0o700); err != nil {
			return err
		}
		if err := writeEgressConfig(a.cfg.EgressConfigFile, a.cfg.EgressSocket); err != nil {
			return fmt.Errorf("egress selector config: %w", err)
		}
	}
	addr := net.JoinHostPort(a.cfg.BindAddress.String(), strconv.Itoa(a.cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("--https-listen-port %d: address %s already in use", a.cfg.Port, addr)
		}
		return fmt.Errorf("--bind-address/--https-listen-port: listen on %s: %w", addr, err)
	}
	server, err := a.build(ln)
	if err != nil {
		ln.Close()
		return err
	}
	probe, err := healthz.NewAPIServer(a.URL()+"/readyz", a.cfg.Certs, pki.ClientSupervisor)
	if err != nil {
		ln.Close()
		return err
	}
	a.ready = probe
	a.Go(ctx, server.Run)
	return nil
}

// peerProxyGate is the feature gate of the peer proxy and its endpoint
// leases, which a single server does not need.
const peerProxyGate = "UnknownVersionInteroperabilityProxy"

// flags renders wren's args and the user's. --feature-gates may be given more
// than once (the apiserver merges them, later ones winning), so a single
// server's gate goes first and any user --feature-gates adds to it.
//
// The security-relevant lists add to wren's instead of replacing them: a
// user's --enable-admission-plugins keeps NodeRestriction (unless the user
// names it in --disable-admission-plugins), and --authorization-mode keeps
// Node and RBAC first.
func (a *APIServer) flags(args map[string]string) []string {
	extra := cliargs.MergeList(args, a.cfg.ExtraArgs, "enable-admission-plugins",
		cliargs.Values(a.cfg.ExtraArgs, "disable-admission-plugins"))
	extra = cliargs.MergeList(args, extra, "authorization-mode", nil)
	flags := cliargs.Render(args, extra)
	if a.cfg.SingleServer {
		flags = append([]string{"--feature-gates=" + peerProxyGate + "=false"}, flags...)
	}
	return flags
}

// build turns wren's flags into a prepared apiserver, the way the upstream
// command does, minus its signal handling and logging setup.
func (a *APIServer) build(ln net.Listener) (interface{ Run(context.Context) error }, error) {
	s := options.NewServerRunOptions()
	args, err := a.args()
	if err != nil {
		return nil, err
	}
	if err := parseInto("kube-apiserver", s.Flags(), a.flags(args)); err != nil {
		return nil, err
	}
	s.SecureServing.Listener = ln
	if a.cfg.SingleServer {
		// NOTE: upstream exposes this only as a package variable; it is read
		// when the apiserver is built, below.
		controlplaneapiserver.IdentityLeaseRenewIntervalPeriod = singleServerIdentityRenew
	}
	if a.cfg.EncryptionConfigFile != "" {
		pollEncryptionConfig()
	}
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return nil, fmt.Errorf("kube-apiserver feature gates: %w", err)
	}
	// The apiserver's loopback clients should not log self-issued warnings.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	completed, err := s.Complete(context.Background())
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver options: %w", err)
	}
	if errs := completed.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("kube-apiserver options: %w", errors.Join(errs...))
	}
	config, err := app.NewConfig(completed)
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver config: %w", err)
	}
	if a.wrap != nil {
		// The aggregator is the outermost server of the chain: wrapping its
		// handler chain puts wren's routes in front of every API request.
		generic := config.Aggregator.GenericConfig
		inner := generic.BuildHandlerChainFunc
		generic.BuildHandlerChainFunc = func(h http.Handler, c *genericapiserver.Config) http.Handler {
			return a.wrap(inner(h, c), c.Authentication.Authenticator)
		}
	}
	full, err := config.Complete()
	if err != nil {
		return nil, err
	}
	chain, err := app.CreateServerChain(full)
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver: %w", err)
	}
	// NOTE: the HTTP server's graceful shutdown waits for every connection to
	// go idle, up to the request timeout (60 s). The kubelet, kube-proxy and
	// flannel in this process keep their watches open until the process
	// ends, so without a short bound every shutdown would take a minute.
	chain.GenericAPIServer.ShutdownTimeout = shutdownTimeout
	prepared, err := chain.PrepareRun()
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver: %w", err)
	}
	return prepared, nil
}

// Ready returns nil once /readyz reports every check healthy.
func (a *APIServer) Ready(ctx context.Context) error {
	if a.ready == nil {
		return errors.New("not started")
	}
	return a.ready.Check(ctx)
}
