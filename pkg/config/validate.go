// SPDX-License-Identifier: Apache-2.0

package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/wren-k8s/wren/pkg/internal/cliargs"
)

// The bundled add-ons --disable knows (k3s names).
const (
	AddonCoreDNS        = "coredns"
	AddonLocalStorage   = "local-storage"
	AddonMetricsServer  = "metrics-server"
	AddonServiceLB      = "servicelb"
	AddonHelmController = "helm-controller"
)

// Addons lists them.
var Addons = []string{AddonCoreDNS, AddonLocalStorage, AddonMetricsServer, AddonServiceLB, AddonHelmController}

// DatastoreSchemes are the --datastore-endpoint schemes kine serves.
var DatastoreSchemes = []string{"sqlite", "postgres", "postgresql", "mysql", "http", "https", "nats"}

// Validate checks the settings after Complete and returns every problem found,
// one line each, naming the flag.
func (s *Server) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if s.HTTPSPort < 1 || s.HTTPSPort > 65535 {
		add("--https-listen-port %d: must be between 1 and 65535", s.HTTPSPort)
	}
	if s.AdvertiseAddress.IsValid() && s.AdvertiseAddress.IsUnspecified() {
		add("--advertise-address %s: must be a routable address", s.AdvertiseAddress)
	}
	errs = append(errs, s.validateNetworks()...)
	if msgs := validation.IsDNS1123Subdomain(s.ClusterDomain); len(msgs) > 0 {
		add("--cluster-domain %q: %s", s.ClusterDomain, msgs[0])
	}
	for name := range s.Derived.Disabled {
		if !contains(Addons, name) {
			add("--disable %q: unknown add-on (want %s)", name, strings.Join(Addons, ", "))
		}
	}
	if s.SystemDefaultRegistry != "" && strings.ContainsAny(s.SystemDefaultRegistry, " /") {
		add("--system-default-registry %q: want a registry host such as registry.example.com:5000", s.SystemDefaultRegistry)
	}
	if !contains(EgressSelectorModes, s.EgressSelectorMode) {
		add("--egress-selector-mode %q: want one of %s", s.EgressSelectorMode, strings.Join(EgressSelectorModes, ", "))
	}
	if !contains(SecretsEncryptionProviders, s.SecretsEncryptionProvider) {
		add("--secrets-encryption-provider %q: want one of %s", s.SecretsEncryptionProvider, strings.Join(SecretsEncryptionProviders, ", "))
	}
	if err := validateDatastore(s.DatastoreEndpoint); err != nil {
		errs = append(errs, err)
	}
	for flag, args := range map[string][]string{
		"--kube-apiserver-arg":          s.ExtraAPIServerArgs,
		"--kube-controller-manager-arg": s.ExtraControllerManagerArgs,
		"--kube-scheduler-arg":          s.ExtraSchedulerArgs,
	} {
		for _, a := range args {
			if k, _ := cliargs.NameValue(a); k == "" {
				add("%s %q: want name=value", flag, a)
			}
		}
	}
	if !s.DisableAgent {
		errs = append(errs, s.Agent.ValidateAgent()...)
	}
	return errors.Join(errs...)
}

func (s *Server) validateNetworks() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	cluster, service := s.ClusterCIDR.Prefix, s.ServiceCIDR.Prefix
	if !cluster.IsValid() {
		add("--cluster-cidr: required")
	}
	if !service.IsValid() {
		add("--service-cidr: required")
	}
	if len(errs) > 0 {
		return errs
	}
	if cluster.Addr().Is4() != service.Addr().Is4() {
		add("--cluster-cidr %s and --service-cidr %s: must be the same IP family", cluster, service)
		return errs
	}
	// Each node gets a /24 (IPv4) or /64 (IPv6) out of the cluster CIDR.
	if nodeMask := nodeMaskSize(cluster); cluster.Bits() > nodeMask {
		add("--cluster-cidr %s: too small, each node needs a /%d", cluster, nodeMask)
	}
	// The apiserver's own limits on the service range.
	if service.Addr().Is4() && service.Bits() < 12 || service.Addr().Is6() && service.Bits() < 108 {
		add("--service-cidr %s: too large (at most /12 for IPv4, /108 for IPv6)", service)
	}
	if service.Addr().Is4() && service.Bits() > 28 {
		add("--service-cidr %s: too small (at least /28)", service)
	}
	if cluster.Overlaps(service) {
		add("--cluster-cidr %s overlaps --service-cidr %s", cluster, service)
	}
	dns := s.ClusterDNS.Addr
	switch {
	case !dns.IsValid():
	case !service.Contains(dns):
		add("--cluster-dns %s: not inside --service-cidr %s", dns, service)
	case dns == service.Addr() || dns == service.Addr().Next():
		add("--cluster-dns %s: reserved (network address or the kubernetes Service IP)", dns)
	}
	return errs
}

// nodeMaskSize is the per-node pod CIDR size the controller-manager allocates.
func nodeMaskSize(cluster netip.Prefix) int {
	if cluster.Addr().Is4() {
		return 24
	}
	return 64
}

func validateDatastore(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	scheme, rest, ok := strings.Cut(endpoint, "://")
	if !ok {
		return fmt.Errorf("--datastore-endpoint %q: want a URL such as postgres://user:pass@host:5432/db", redact(endpoint))
	}
	for _, known := range DatastoreSchemes {
		if scheme == known {
			if rest == "" && scheme != "sqlite" {
				return fmt.Errorf("--datastore-endpoint %q: missing address", redact(endpoint))
			}
			return nil
		}
	}
	return fmt.Errorf("--datastore-endpoint %q: unknown scheme %q (want one of %s)", redact(endpoint), scheme,
		strings.Join(DatastoreSchemes, ", "))
}

// redact hides a password in a DSN: scheme://user:secret@host → scheme://user:***@host.
func redact(dsn string) string { return RedactDSN(dsn) }

// RedactDSN hides the password of a datastore DSN so it can be logged.
func RedactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return dsn
	}
	return scheme + "://" + user + ":***" + rest[at:]
}
