// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wren-k8s/wren/pkg/pki"
)

// Registry is a distribution registry (registry:2's program, built from
// tests/tools/registry) that a test started on loopback, in memory.
type Registry struct {
	// Addr is host:port (127.0.0.1 unless RegistryOptions.IP).
	Addr string
	// CAFile signed its serving certificate (for 127.0.0.1 and localhost);
	// empty for a plain-HTTP registry.
	CAFile string
	// User and Password are the only login it accepts; empty: no auth.
	User, Password string
}

// RegistryOptions chooses how a test registry serves.
type RegistryOptions struct {
	TLS            bool
	User, Password string
	// IP is the address it listens on; default 127.0.0.1.
	IP string
}

var (
	registryOnce sync.Once
	registryBin  string
	registryErr  error
)

// registryBinary builds the registry program once per test process, into
// build/tools/ (go's cache makes later builds quick).
func registryBinary() (string, error) {
	registryOnce.Do(func() {
		registryBin = filepath.Join(RepoRoot(), "build", "tools", "registry")
		cmd := exec.Command("go", "build", "-o", registryBin, ".")
		cmd.Dir = filepath.Join(RepoRoot(), "tests", "tools", "registry")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			registryErr = fmt.Errorf("build tests/tools/registry: %v\n%s", err, out)
		}
	})
	return registryBin, registryErr
}

// StartRegistry starts a registry for the test; its cleanup stops it.
func StartRegistry(t testing.TB, opts RegistryOptions) *Registry {
	t.Helper()
	bin, err := registryBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ip := opts.IP
	if ip == "" {
		ip = "127.0.0.1"
	}
	r := &Registry{Addr: fmt.Sprintf("%s:%d", ip, FreePort(t)), User: opts.User, Password: opts.Password}
	args := []string{"-addr", r.Addr}
	if opts.User != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(opts.Password), bcrypt.MinCost)
		must(t, err)
		htpasswd := filepath.Join(dir, "htpasswd")
		must(t, os.WriteFile(htpasswd, []byte(opts.User+":"+string(hash)+"\n"), 0o600))
		args = append(args, "-htpasswd", htpasswd)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	scheme := "http"
	if opts.TLS {
		r.CAFile = filepath.Join(dir, "ca.crt")
		ca, err := pki.LoadOrCreateCA(r.CAFile, filepath.Join(dir, "ca.key"), "wren-test-registry-ca", time.Now())
		must(t, err)
		cert, key := filepath.Join(dir, "registry.crt"), filepath.Join(dir, "registry.key")
		_, err = pki.EnsureLeaf(ca, pki.LeafSpec{CommonName: "registry", DNS: []string{"localhost"},
			IPs: []netip.Addr{netip.MustParseAddr(ip)}, Server: true}, cert, key, time.Now())
		must(t, err)
		args = append(args, "-cert", cert, "-key", key)
		pool := x509.NewCertPool()
		pool.AddCert(ca.Cert)
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		scheme = "https"
	}
	logs, err := os.Create(filepath.Join(dir, "registry.log"))
	must(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	// Its OpenTelemetry exporter would post traces to localhost:4318.
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logs.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logs.Name()); err == nil {
				t.Logf("registry %s log:\n%s", r.Addr, tail(string(b), 40))
			}
		}
	})
	Eventually(t, 30*time.Second, 100*time.Millisecond, "registry "+r.Addr+" serving", func() error {
		resp, err := client.Get(scheme + "://" + r.Addr + "/v2/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		return nil
	})
	return r
}
