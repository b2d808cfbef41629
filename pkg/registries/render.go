// SPDX-License-Identifier: Apache-2.0

package registries

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Header starts every hosts.toml wren writes; a certs.d directory whose
// hosts.toml starts with it is wren's to replace or remove.
const Header = "# Written by wren from registries.yaml at every start; edits are overwritten.\n"

// DefaultDir is the certs.d directory that holds the "*" mirror's hosts.toml:
// containerd uses it for a registry without a directory of its own.
const DefaultDir = "_default"

// endpoint is a parsed mirror endpoint.
type endpoint struct {
	url          *url.URL // scheme, host and path as containerd will use them
	overridePath bool     // the path is the registry's API root, not /v2
}

// parseEndpoint normalises an endpoint as k3s does: no scheme means https,
// except a loopback host on a port other than 443, which means http; an
// empty path means /v2; another path is used as the API root as it is.
func parseEndpoint(e string) (endpoint, error) {
	raw := e
	if !strings.Contains(raw, "://") {
		scheme := "https"
		if loopbackNot443(strings.SplitN(raw, "/", 2)[0]) {
			scheme = "http"
		}
		raw = scheme + "://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoint{}, fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return endpoint{}, errors.New("no host")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return endpoint{}, errors.New("want scheme://host[:port][/path] only (credentials go in configs)")
	}
	if u.Host == "docker.io" {
		u.Host = "registry-1.docker.io"
	}
	ep := endpoint{url: u}
	switch strings.TrimSuffix(u.Path, "/") {
	case "", "/v2":
		u.Path = "/v2"
	default:
		ep.overridePath = true
	}
	return ep, nil
}

// loopbackNot443 reports whether hostport names this machine on a port
// other than 443 (a local registry usually speaks plain HTTP).
func loopbackNot443(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port == "443" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// defaultEndpoint is where containerd goes for name when every mirror fails.
func defaultEndpoint(name string) endpoint {
	e, _ := parseEndpoint(name) // names are checked by Parse
	e.url.Path = "/v2"
	e.overridePath = false
	return e
}

// HostsFiles returns, per certs.d directory name, the hosts.toml content:
// one per mirrored registry (its endpoints, each with its configs' TLS,
// then the registry itself), one per registry that only has TLS settings,
// and _default for the "*" mirror.
func (r *Registries) HostsFiles() map[string]string {
	out := map[string]string{}
	if r == nil {
		return out
	}
	for _, name := range slices.Sorted(maps.Keys(r.Mirrors)) {
		out[dirName(name)] = r.hostsFile(name, r.Mirrors[name].Endpoints)
	}
	for _, host := range slices.Sorted(maps.Keys(r.Configs)) {
		if _, mirrored := r.Mirrors[host]; mirrored || r.Configs[host].TLS == nil {
			continue
		}
		out[dirName(host)] = r.hostsFile(host, nil)
	}
	return out
}

func dirName(name string) string {
	if name == "*" {
		return DefaultDir
	}
	return name
}

// hostsFile renders one registry's hosts.toml.
func (r *Registries) hostsFile(name string, endpoints []string) string {
	var b strings.Builder
	b.WriteString(Header)
	var def endpoint
	if name == "*" {
		r.writeTLS(&b, "*", "") // for the registry asked for
	} else {
		def = defaultEndpoint(name)
		fmt.Fprintf(&b, "server = %s\n", TOMLString(def.url.String()))
		r.writeTLS(&b, def.url.Host, "")
	}
	seen := map[string]bool{}
	for _, e := range endpoints {
		ep, _ := parseEndpoint(e) // checked by Parse
		s := ep.url.String()
		if seen[s] || (def.url != nil && s == def.url.String()) {
			continue // the registry itself is tried last anyway
		}
		seen[s] = true
		fmt.Fprintf(&b, "\n[host.%s]\n", TOMLString(s))
		b.WriteString("  capabilities = [\"pull\", \"resolve\"]\n")
		if ep.overridePath {
			b.WriteString("  override_path = true\n")
		}
		r.writeTLS(&b, ep.url.Host, "  ")
	}
	return b.String()
}

// tlsFor returns the TLS settings configs holds for an endpoint host,
// falling back to "*".
func (r *Registries) tlsFor(host string) *TLS {
	keys := []string{host}
	if host == "registry-1.docker.io" {
		keys = append(keys, "docker.io")
	}
	for _, k := range append(keys, "*") {
		if c, ok := r.Configs[k]; ok && c.TLS != nil {
			return c.TLS
		}
	}
	return nil
}

// writeTLS writes host's TLS settings, if any.
func (r *Registries) writeTLS(b *strings.Builder, host, indent string) {
	t := r.tlsFor(host)
	if t == nil {
		return
	}
	if t.CAFile != "" {
		fmt.Fprintf(b, "%sca = [%s]\n", indent, TOMLString(t.CAFile))
	}
	if t.CertFile != "" {
		fmt.Fprintf(b, "%sclient = [[%s, %s]]\n", indent, TOMLString(t.CertFile), TOMLString(t.KeyFile))
	}
	if t.InsecureSkipVerify {
		fmt.Fprintf(b, "%sskip_verify = true\n", indent)
	}
}

// Auths returns the credentials per registry host as containerd's CRI
// looks them up: by the host it contacts (docker.io's is registry-1.docker.io).
func (r *Registries) Auths() map[string]Auth {
	out := map[string]Auth{}
	if r == nil {
		return out
	}
	for host, c := range r.Configs {
		if c.Auth == nil || host == "*" {
			continue
		}
		if host == "docker.io" {
			host = "registry-1.docker.io"
		}
		out[host] = *c.Auth
	}
	return out
}

// TOMLString quotes s as a TOML basic string (%q is not TOML for every
// string: it can write \x escapes).
func TOMLString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u` + leftPad(strconv.FormatInt(int64(r), 16)))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func leftPad(hex string) string { return strings.Repeat("0", 4-len(hex)) + hex }
