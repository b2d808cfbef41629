// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readCert(t *testing.T, path string) ([]byte, []string, []net.IP, time.Time) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	c, err := parseCert(b)
	require.NoError(t, err)
	return b, c.DNSNames, c.IPAddresses, c.NotAfter
}

func TestServerPKICreatesEverythingWithSANs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := NewServer(dir, []string{"localhost", "kubernetes.default.svc.cluster.local", "my.example"},
		[]netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.43.0.1")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, p.Start(context.Background()))

	certFile, keyFile := p.paths.ServingAPIServer()
	_, dns, ips, _ := readCert(t, certFile)
	assert.Equal(t, []string{"localhost", "kubernetes.default.svc.cluster.local", "my.example"}, dns)
	require.Len(t, ips, 2)
	assert.Equal(t, "10.43.0.1", ips[1].String())

	for _, f := range []string{keyFile, p.paths.ServerCAKey(), p.paths.ServiceAccountKey()} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
}

func TestServerPKIRestartReusesAndSANChangeReissues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ips := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	require.NoError(t, NewServer(dir, []string{"a"}, ips, log).Start(context.Background()))
	p := Paths{Dir: dir}
	ca1, _ := os.ReadFile(p.ServerCA())
	admin1, _ := os.ReadFile(p.file("client-admin.crt"))
	serving1, _, _, _ := readCert(t, p.file("serving-kube-apiserver.crt"))
	key1, _ := os.ReadFile(p.file("serving-kube-apiserver.key"))

	require.NoError(t, NewServer(dir, []string{"a"}, ips, log).Start(context.Background()))
	admin2, _ := os.ReadFile(p.file("client-admin.crt"))
	assert.Equal(t, admin1, admin2, "an unchanged, valid leaf is reused")

	require.NoError(t, NewServer(dir, []string{"a", "b"}, ips, log).Start(context.Background()))
	serving2, dns, _, _ := readCert(t, p.file("serving-kube-apiserver.crt"))
	key2, _ := os.ReadFile(p.file("serving-kube-apiserver.key"))
	assert.NotEqual(t, serving1, serving2, "a new --tls-san reissues the serving cert")
	assert.Equal(t, []string{"a", "b"}, dns)
	assert.Equal(t, key1, key2, "reissue keeps the key")
	ca2, _ := os.ReadFile(p.ServerCA())
	assert.Equal(t, ca1, ca2, "the CA is never replaced")
}

func TestEnsureLeafRenewalWindow(t *testing.T) {
	t.Parallel()
	now := time.Now()
	dir := t.TempDir()
	ca, err := LoadOrCreateCA(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), "test", now)
	require.NoError(t, err)
	spec := LeafSpec{CommonName: "x"}
	cert, key := filepath.Join(dir, "x.crt"), filepath.Join(dir, "x.key")
	wrote, err := EnsureLeaf(ca, spec, cert, key, now)
	require.NoError(t, err)
	require.True(t, wrote)
	_, _, _, notAfter := readCert(t, cert)

	tests := []struct {
		name  string
		at    time.Time
		renew bool
	}{
		{"fresh", now.Add(24 * time.Hour), false},
		{"100 days before expiry", notAfter.Add(-100 * 24 * time.Hour), false},
		{"89 days before expiry", notAfter.Add(-89 * 24 * time.Hour), true},
	}
	for _, tc := range tests {
		// Not parallel: the cases share the files and run in order.
		wrote, err := EnsureLeaf(ca, spec, cert, key, tc.at)
		require.NoError(t, err)
		assert.Equal(t, tc.renew, wrote, tc.name)
	}
	_, _, _, renewedUntil := readCert(t, cert)
	assert.True(t, renewedUntil.After(notAfter), "the renewed cert lasts longer")
}

func TestCANeverSilentlyReplaced(t *testing.T) {
	t.Parallel()
	now := time.Now()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	_, err := LoadOrCreateCA(cert, key, "test", now)
	require.NoError(t, err)

	require.NoError(t, os.Rename(cert, cert+".bak"))
	_, err = LoadOrCreateCA(cert, key, "test", now)
	require.ErrorContains(t, err, "refusing to replace the CA")
	require.NoError(t, os.Rename(cert+".bak", cert))

	_, err = LoadOrCreateCA(cert, key, "test", now.Add(CALifetime+time.Hour))
	require.ErrorContains(t, err, "expired")

	other := t.TempDir()
	_, err = LoadOrCreateCA(filepath.Join(other, "ca.crt"), filepath.Join(other, "ca.key"), "other", now)
	require.NoError(t, err)
	otherKey, _ := os.ReadFile(filepath.Join(other, "ca.key"))
	require.NoError(t, os.WriteFile(key, otherKey, 0o600))
	_, err = LoadOrCreateCA(cert, key, "test", now)
	require.ErrorContains(t, err, "does not belong to certificate")
}

func TestEnsureLeafReissuesWhenCAChanged(t *testing.T) {
	t.Parallel()
	now := time.Now()
	dir := t.TempDir()
	ca1, err := LoadOrCreateCA(filepath.Join(dir, "ca1.crt"), filepath.Join(dir, "ca1.key"), "one", now)
	require.NoError(t, err)
	ca2, err := LoadOrCreateCA(filepath.Join(dir, "ca2.crt"), filepath.Join(dir, "ca2.key"), "two", now)
	require.NoError(t, err)
	cert, key := filepath.Join(dir, "x.crt"), filepath.Join(dir, "x.key")
	_, err = EnsureLeaf(ca1, LeafSpec{CommonName: "x"}, cert, key, now)
	require.NoError(t, err)
	wrote, err := EnsureLeaf(ca2, LeafSpec{CommonName: "x"}, cert, key, now)
	require.NoError(t, err)
	assert.True(t, wrote)
}
