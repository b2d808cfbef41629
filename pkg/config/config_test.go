// SPDX-License-Identifier: Apache-2.0

package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func completed(t *testing.T, mutate func(*Server)) *Server {
	t.Helper()
	s := DefaultServer()
	s.DataDir = t.TempDir()
	s.DisableAgent = true
	if mutate != nil {
		mutate(s)
	}
	require.NoError(t, s.Complete())
	return s
}

func TestDefaultsComplete(t *testing.T) {
	t.Parallel()
	s := completed(t, nil)
	require.NoError(t, s.Validate())
	d := s.Derived
	assert.Equal(t, "10.43.0.10", s.ClusterDNS.String())
	assert.Equal(t, "10.43.0.1", d.APIServiceIP.String())
	assert.Equal(t, filepath.Join(s.DataDir, "server", "tls"), d.TLSDir)
	assert.True(t, strings.HasPrefix(d.Datastore, "sqlite://"+filepath.Join(s.DataDir, "server", "db", "state.db")+"?"))
	assert.Equal(t, "sqlite", d.DatastoreScheme)
	assert.False(t, d.LeaderElect)
	assert.Equal(t, 1024, d.SQLitePageSize)
	assert.Contains(t, d.SANDNS, "kubernetes.default.svc.cluster.local")
	assert.Contains(t, d.SANIPs, netip.MustParseAddr("10.43.0.1"))
	assert.Contains(t, d.SANIPs, netip.MustParseAddr("127.0.0.1"))
	assert.Equal(t, 10257, d.ControllerManagerPort)
}

func TestTLSSANsAndPorts(t *testing.T) {
	t.Parallel()
	s := completed(t, func(s *Server) {
		s.TLSSANs = []string{"My.Example.com", "192.0.2.50", " "}
		s.ExtraSchedulerArgs = []string{"secure-port=20259"}
		s.DatastoreEndpoint = "postgres://u:p@db:5432/k"
	})
	assert.Contains(t, s.Derived.SANDNS, "my.example.com")
	assert.Contains(t, s.Derived.SANIPs, netip.MustParseAddr("192.0.2.50"))
	assert.Equal(t, 20259, s.Derived.SchedulerPort)
	assert.True(t, s.Derived.LeaderElect)
	assert.Zero(t, s.Derived.SQLitePageSize, "a user DSN keeps SQLite's page size")
}

func TestValidateErrorsNameTheFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Server)
		want   string
	}{
		{"overlap", func(s *Server) { s.ServiceCIDR = MustPrefix("10.42.128.0/20") }, "--cluster-cidr 10.42.0.0/16 overlaps --service-cidr 10.42.128.0/20"},
		{"families", func(s *Server) { s.ServiceCIDR = MustPrefix("fd00::/112") }, "must be the same IP family"},
		{"cluster too small", func(s *Server) { s.ClusterCIDR = MustPrefix("10.42.0.0/26") }, "--cluster-cidr 10.42.0.0/26: too small"},
		{"service too large", func(s *Server) {
			s.ServiceCIDR = MustPrefix("10.0.0.0/8")
			s.ClusterCIDR = MustPrefix("192.168.0.0/16")
		}, "--service-cidr 10.0.0.0/8: too large"},
		{"dns outside", func(s *Server) { s.ClusterDNS = Addr{netip.MustParseAddr("10.44.0.10")} }, "--cluster-dns 10.44.0.10: not inside --service-cidr"},
		{"dns reserved", func(s *Server) { s.ClusterDNS = Addr{netip.MustParseAddr("10.43.0.1")} }, "--cluster-dns 10.43.0.1: reserved"},
		{"port", func(s *Server) { s.HTTPSPort = 70000 }, "--https-listen-port 70000"},
		{"domain", func(s *Server) { s.ClusterDomain = "Bad_Domain" }, "--cluster-domain"},
		{"datastore scheme", func(s *Server) { s.DatastoreEndpoint = "oracle://u:secret@h/db" }, `unknown scheme "oracle"`},
		{"datastore form", func(s *Server) { s.DatastoreEndpoint = "just-a-path" }, "--datastore-endpoint"},
		{"disable", func(s *Server) { s.Disable = []string{"coredns,traefikk"} }, `--disable "traefikk": unknown add-on`},
		{"extra arg", func(s *Server) { s.ExtraAPIServerArgs = []string{"=x"} }, `--kube-apiserver-arg "=x"`},
		{"node ip", func(s *Server) { s.DisableAgent = false; s.Agent.NodeIP = Addr{netip.MustParseAddr("203.0.113.77")} }, "--node-ip 203.0.113.77: not an address of this host"},
		{"flannel", func(s *Server) { s.DisableAgent = false; s.Agent.FlannelBackend = "udp" }, `--flannel-backend "udp"`},
		{"label", func(s *Server) { s.DisableAgent = false; s.Agent.NodeLabels = []string{"novalue"} }, `--node-label "novalue"`},
		{"taint", func(s *Server) { s.DisableAgent = false; s.Agent.NodeTaints = []string{"k=v:Sometimes"} }, `--node-taint "k=v:Sometimes"`},
		{"resolv", func(s *Server) { s.DisableAgent = false; s.Agent.ResolvConf = "/nonexistent/resolv.conf" }, "--resolv-conf /nonexistent/resolv.conf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := completed(t, tc.mutate)
			err := s.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "secret", "passwords are redacted")
		})
	}
}

func TestValidateJoinsAllErrors(t *testing.T) {
	t.Parallel()
	s := completed(t, func(s *Server) { s.HTTPSPort = 0; s.ClusterDomain = "-" })
	err := s.Validate()
	require.Error(t, err)
	assert.Len(t, strings.Split(err.Error(), "\n"), 2, "one line per problem")
}

func TestValueParsing(t *testing.T) {
	t.Parallel()
	var p Prefix
	assert.ErrorContains(t, p.Set("10.42.0.0/33"), `invalid CIDR "10.42.0.0/33"`)
	assert.ErrorContains(t, p.Set("10.42.0.1/16"), "did you mean 10.42.0.0/16")
	require.NoError(t, p.Set("10.42.0.0/16"))
	var a Addr
	assert.ErrorContains(t, a.Set("10.0.0.300"), "invalid IP address")
	var m FileMode
	require.NoError(t, m.Set("644"))
	assert.Equal(t, FileMode(0o644), m)
	assert.Error(t, m.Set("0999"))
	var r PortRange
	require.NoError(t, r.Set("30000-32767"))
	assert.Equal(t, "30000-32767", r.String())
	assert.Error(t, r.Set("5-1"))
	var d Duration
	assert.Error(t, d.Set("-1s"))
}

func TestTokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tok")
	require.NoError(t, os.WriteFile(path, []byte("  secret\n"), 0o600))
	s := completed(t, func(s *Server) { s.TokenFile = path })
	assert.Equal(t, "secret", s.Token)

	bad := DefaultServer()
	bad.TokenFile, bad.Token = path, "x"
	assert.ErrorContains(t, bad.Complete(), "give only one")
	missing := DefaultServer()
	missing.TokenFile = filepath.Join(dir, "nope")
	assert.ErrorContains(t, missing.Complete(), "--token-file")
}

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "postgres://u:***@h:5432/db", RedactDSN("postgres://u:pw@h:5432/db"))
	assert.Equal(t, "mysql://u:***@tcp(h:3306)/db", RedactDSN("mysql://u:p@ss@tcp(h:3306)/db"))
	assert.Equal(t, "sqlite:///x/state.db", RedactDSN("sqlite:///x/state.db"))
}

func TestUserSQLiteDSNGetsKineDefaults(t *testing.T) {
	t.Parallel()
	for dsn, want := range map[string]string{
		"sqlite:///x/state.db": "sqlite:///x/state.db?" + sqliteParams,
		"sqlite:///x/state.db?cache=private&_busy_timeout=5": "sqlite:///x/state.db?cache=private&_busy_timeout=5" +
			"&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=20",
		"sqlite:///x/state.db?" + sqliteParams: "sqlite:///x/state.db?" + sqliteParams,
	} {
		s := completed(t, func(s *Server) { s.DatastoreEndpoint = dsn })
		assert.Equal(t, want, s.Derived.Datastore, dsn)
		assert.Zero(t, s.Derived.SQLitePageSize, "a user's database is not created by wren")
	}
	pg := completed(t, func(s *Server) { s.DatastoreEndpoint = "postgres://u:p@db/k" })
	assert.Equal(t, "postgres://u:p@db/k", pg.Derived.Datastore)
}
