// SPDX-License-Identifier: Apache-2.0

// Package registries reads registries.yaml (k3s's format: mirrors with
// endpoints, and per-registry auth and TLS) and turns it into what
// containerd 2.x understands: one certs.d/<host>/hosts.toml per registry
// and the CRI plugin's per-host credentials.
package registries

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wren-k8s/wren/pkg/internal/fserr"
)

// DefaultPath is where wren looks for the file (--private-registry).
const DefaultPath = "/etc/wren/registries.yaml"

// Registries is the parsed file.
type Registries struct {
	// Mirrors maps a registry name ("docker.io", "host:port", or "*" for
	// every registry without its own entry) to the endpoints to try first.
	Mirrors map[string]Mirror `yaml:"mirrors"`
	// Configs maps an endpoint's host[:port] (or "*") to its auth and TLS.
	Configs map[string]Config `yaml:"configs"`
}

// Mirror lists the endpoints tried, in order, before the registry itself.
type Mirror struct {
	Endpoints []string `yaml:"endpoint"`
	// Rewrites (regexp → replacement of the repository) are accepted for
	// compatibility and reported: upstream containerd cannot apply them.
	Rewrites map[string]string `yaml:"rewrite"`
}

// Config is one endpoint's credentials and TLS settings.
type Config struct {
	Auth *Auth `yaml:"auth"`
	TLS  *TLS  `yaml:"tls"`
}

// Auth is a registry login: a username and password, a base64
// "user:password" (Auth), or an identity token.
type Auth struct {
	Username      string `yaml:"username"`
	Password      string `yaml:"password"`
	Auth          string `yaml:"auth"`
	IdentityToken string `yaml:"identity_token"`
}

// TLS is how wren's containerd verifies, and authenticates to, an endpoint.
type TLS struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Load reads path. A missing file is no configuration (nil, nil): the
// feature is off. Keys wren does not know are not an error (k3s ignores
// them too) but come back as warnings, like rewrites; anything else wrong
// is an error naming the file and what is wrong.
func Load(path string) (*Registries, []string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--private-registry %s: %w", path, fserr.Cause(err))
	}
	r, warnings, err := Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("--private-registry %s: %w", path, err)
	}
	for i, w := range warnings {
		warnings[i] = path + ": " + w
	}
	return r, warnings, nil
}

// Parse parses and checks the file's content.
func Parse(data []byte) (*Registries, []string, error) {
	r := &Registries{}
	var warnings []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(r); err != nil && !errors.Is(err, io.EOF) {
		// Unknown keys only? Then decode leniently and warn.
		lenient := &Registries{}
		if err2 := yaml.Unmarshal(data, lenient); err2 != nil {
			return nil, nil, oneLine(err2)
		}
		r = lenient
		warnings = append(warnings, "ignored: "+oneLine(err).Error())
	}
	if err := r.check(); err != nil {
		return nil, nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(r.Mirrors)) {
		if len(r.Mirrors[name].Rewrites) > 0 {
			warnings = append(warnings, fmt.Sprintf("mirrors.%q.rewrite: not supported, the mirror's endpoints are used without it", name))
		}
	}
	if c, ok := r.Configs["*"]; ok && c.Auth != nil {
		warnings = append(warnings, `configs."*".auth: credentials go to one registry host; name it instead of "*"`)
	}
	return r, warnings, nil
}

// check validates names, endpoints and files, one error for the first problem.
func (r *Registries) check() error {
	for _, name := range slices.Sorted(maps.Keys(r.Mirrors)) {
		if name != "*" {
			if err := checkHost(name); err != nil {
				return fmt.Errorf("mirrors.%q: %w", name, err)
			}
		}
		for _, e := range r.Mirrors[name].Endpoints {
			if _, err := parseEndpoint(e); err != nil {
				return fmt.Errorf("mirrors.%q.endpoint %q: %w", name, e, err)
			}
		}
	}
	for _, host := range slices.Sorted(maps.Keys(r.Configs)) {
		if host != "*" {
			if err := checkHost(host); err != nil {
				return fmt.Errorf("configs.%q: %w", host, err)
			}
		}
		c := r.Configs[host]
		if a := c.Auth; a != nil && a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" {
			return fmt.Errorf("configs.%q.auth: empty (want username and password, auth, or identity_token)", host)
		}
		if t := c.TLS; t != nil {
			if (t.CertFile == "") != (t.KeyFile == "") {
				return fmt.Errorf("configs.%q.tls: cert_file and key_file go together", host)
			}
			for key, f := range map[string]string{"ca_file": t.CAFile, "cert_file": t.CertFile, "key_file": t.KeyFile} {
				if f == "" {
					continue
				}
				if _, err := os.Stat(f); err != nil {
					return fmt.Errorf("configs.%q.tls.%s %s: %w", host, key, f, fserr.Cause(err))
				}
			}
		}
	}
	return nil
}

func checkHost(h string) error {
	if h == "" || strings.ContainsAny(h, "/ \t") {
		return errors.New("want a registry host[:port], like docker.io or 10.0.0.1:5000")
	}
	return nil
}

// oneLine puts a YAML error (which can list a problem per line) on one line.
func oneLine(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:")
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return errors.New(strings.Join(parts, "; "))
}
