// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wren-k8s/wren/pkg/component"
)

// KubeAPIServerUser is the apiserver's client identity (towards kubelets and
// the supervisor's egress).
const KubeAPIServerUser = "system:kube-apiserver"

// Client identities the server issues certificates for. The name is the file
// stem (client-<name>.crt); the CN and groups are what the apiserver sees.
const (
	ClientAdmin             = "admin"
	ClientControllerManager = "controller"
	ClientScheduler         = "scheduler"
	ClientKubeAPIServer     = "kube-apiserver"
	ClientSupervisor        = "supervisor"
	ClientAuthProxy         = "auth-proxy"
)

// Paths names the files under the server's tls directory.
type Paths struct{ Dir string }

func (p Paths) file(name string) string { return filepath.Join(p.Dir, name) }

// ServerCA is the CA that signs serving certificates; its bundle is what join tokens pin.
func (p Paths) ServerCA() string    { return p.file("server-ca.crt") }
func (p Paths) ServerCAKey() string { return p.file("server-ca.key") }

// NoChain is the file with a CA bundle's signing certificate alone (k3s's
// name): upstream signers (the controller manager's) take exactly one.
func NoChain(caFile string) string { return strings.TrimSuffix(caFile, ".crt") + ".nochain.crt" }

// ClientCA signs the client certificates the apiserver accepts.
func (p Paths) ClientCA() string    { return p.file("client-ca.crt") }
func (p Paths) ClientCAKey() string { return p.file("client-ca.key") }

// RequestHeaderCA signs the front-proxy client certificate (aggregated APIs).
func (p Paths) RequestHeaderCA() string    { return p.file("request-header-ca.crt") }
func (p Paths) RequestHeaderCAKey() string { return p.file("request-header-ca.key") }

// ServingAPIServer returns the API serving certificate and key.
func (p Paths) ServingAPIServer() (string, string) {
	return p.file("serving-kube-apiserver.crt"), p.file("serving-kube-apiserver.key")
}

// Client returns the certificate and key of a client identity.
func (p Paths) Client(name string) (string, string) {
	return p.file("client-" + name + ".crt"), p.file("client-" + name + ".key")
}

// ServiceAccountKey signs service-account tokens.
func (p Paths) ServiceAccountKey() string { return p.file("service.key") }

// ServerPKI is the component that creates or loads every certificate the
// control plane needs, renewing leaves close to expiry.
type ServerPKI struct {
	paths  Paths
	sanDNS []string
	sanIPs []netip.Addr
	log    *slog.Logger
	now    func() time.Time
	component.Task
}

var (
	_ component.Component = (*ServerPKI)(nil)
	_ component.Exiter    = (*ServerPKI)(nil)
)

// NewServer returns the PKI component for a server whose API answers to the given names.
func NewServer(dir string, sanDNS []string, sanIPs []netip.Addr, log *slog.Logger) *ServerPKI {
	return &ServerPKI{paths: Paths{Dir: dir}, sanDNS: sanDNS, sanIPs: sanIPs, log: log, now: time.Now}
}

// Name implements component.Component.
func (s *ServerPKI) Name() string { return "pki" }

// Start creates or loads the CAs, the service-account key and every leaf,
// then renews leaves while the server runs: every user of the files picks
// the new ones up without a restart.
func (s *ServerPKI) Start(ctx context.Context) error {
	if err := s.ensure(); err != nil {
		return err
	}
	s.Go(ctx, func(ctx context.Context) error {
		return EveryRenewInterval(ctx, func() {
			if err := s.ensure(); err != nil {
				s.log.Error("renewing certificates failed; retrying", "err", err, "in", RenewInterval())
			}
		})
	})
	return nil
}

// ensure creates, loads and renews everything.
func (s *ServerPKI) ensure() error {
	if err := os.MkdirAll(s.paths.Dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(s.paths.Dir, 0o700); err != nil { // keys live here
		return err
	}
	now := s.now()
	p := s.paths
	serverCA, err := LoadOrCreateCA(p.ServerCA(), p.ServerCAKey(), "wren-server-ca", now)
	if err != nil {
		return err
	}
	clientCA, err := LoadOrCreateCA(p.ClientCA(), p.ClientCAKey(), "wren-client-ca", now)
	if err != nil {
		return err
	}
	rhCA, err := LoadOrCreateCA(p.RequestHeaderCA(), p.RequestHeaderCAKey(), "wren-request-header-ca", now)
	if err != nil {
		return err
	}
	for _, ca := range []struct {
		ca   *CA
		file string
	}{{serverCA, p.ServerCA()}, {clientCA, p.ClientCA()}, {rhCA, p.RequestHeaderCA()}} {
		if err := writeNoChain(ca.file, ca.ca); err != nil {
			return err
		}
	}
	if err := EnsureRSAKey(p.ServiceAccountKey()); err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	type leaf struct {
		ca        *CA
		spec      LeafSpec
		cert, key string
	}
	client := func(ca *CA, name, cn string, orgs ...string) leaf {
		c, k := p.Client(name)
		return leaf{ca: ca, spec: LeafSpec{CommonName: cn, Orgs: orgs}, cert: c, key: k}
	}
	servingCert, servingKey := p.ServingAPIServer()
	leaves := []leaf{
		{ca: serverCA, cert: servingCert, key: servingKey,
			spec: LeafSpec{CommonName: "kube-apiserver", DNS: s.sanDNS, IPs: s.sanIPs, Server: true}},
		client(clientCA, ClientAdmin, "system:admin", "system:masters"),
		client(clientCA, ClientControllerManager, "system:kube-controller-manager"),
		client(clientCA, ClientScheduler, "system:kube-scheduler"),
		client(clientCA, ClientKubeAPIServer, KubeAPIServerUser, "system:masters"),
		client(clientCA, ClientSupervisor, "system:wren-supervisor", "system:masters"),
		client(rhCA, ClientAuthProxy, "system:auth-proxy"),
	}
	for _, l := range leaves {
		wrote, err := EnsureLeaf(l.ca, l.spec, l.cert, l.key, now)
		if err != nil {
			return fmt.Errorf("certificate %s: %w", l.cert, err)
		}
		if wrote {
			_, notAfter, _ := CertValidity(l.cert)
			s.log.Info("issued certificate", "file", l.cert, "cn", l.spec.CommonName, "expires", notAfter.Format(time.RFC3339))
		}
	}
	return nil
}

// Ready implements component.Component; the files exist once Start returned.
func (s *ServerPKI) Ready(context.Context) error { return nil }
