// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"crypto/x509"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verifies reports whether the leaf file (with the chain it carries)
// verifies against the certificates of the bundle file.
func verifies(t *testing.T, leafFile string, bundle []byte, usage x509.ExtKeyUsage) bool {
	t.Helper()
	b, err := os.ReadFile(leafFile)
	require.NoError(t, err)
	certs, err := parseCerts(b)
	require.NoError(t, err)
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(bundle))
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err = certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err == nil
}

func startServerPKI(t *testing.T, dir string) {
	t.Helper()
	p := NewServer(dir, []string{"localhost"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, p.ensure())
}

func TestRotateCAOverlap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startServerPKI(t, dir)
	p := Paths{Dir: dir}
	now := time.Now()
	oldServerCA, _ := os.ReadFile(p.ServerCA())
	oldClientCA, _ := os.ReadFile(p.ClientCA())
	serving, _ := p.ServingAPIServer()
	admin, _ := p.Client(ClientAdmin)
	oldServing, _ := os.ReadFile(serving)

	require.NoError(t, RotateCA(p, "", now))
	newServerCA, _ := os.ReadFile(p.ServerCA())
	certs, err := parseCerts(newServerCA)
	require.NoError(t, err)
	require.Len(t, certs, 3, "new CA, cross-signed copy, old CA")
	assert.Equal(t, oldServerCA, certPEM(certs[2]), "the old CA is kept byte for byte (tokens pin it)")

	// The old leaves are still trusted by the new bundle.
	assert.True(t, verifies(t, serving, newServerCA, x509.ExtKeyUsageServerAuth))
	files, err := RotateLeaves(p, now, dir)
	require.NoError(t, err)
	assert.Len(t, files, 7)
	b, _ := os.ReadFile(serving)
	assert.NotEqual(t, oldServing, b)
	leaf, _ := parseCert(b)
	assert.NoError(t, leaf.CheckSignatureFrom(certs[0]), "reissued by the new CA")

	// New leaves: trusted by peers with the new bundle, and by peers that
	// still have only the old CA (through the cross-signed copy).
	assert.True(t, verifies(t, serving, newServerCA, x509.ExtKeyUsageServerAuth))
	assert.True(t, verifies(t, serving, oldServerCA, x509.ExtKeyUsageServerAuth))
	assert.True(t, verifies(t, admin, oldClientCA, x509.ExtKeyUsageClientAuth))
	newClientCA, _ := os.ReadFile(p.ClientCA())
	assert.True(t, verifies(t, admin, newClientCA, x509.ExtKeyUsageClientAuth))

	// A restart keeps the rotated CA and its leaves.
	startServerPKI(t, dir)
	b2, _ := os.ReadFile(serving)
	assert.Equal(t, b, b2)

	// A second rotation drops the oldest CA: its leaves are no longer trusted.
	require.NoError(t, RotateCA(p, "", now))
	third, _ := os.ReadFile(p.ServerCA())
	certs3, err := parseCerts(third)
	require.NoError(t, err)
	require.Len(t, certs3, 3)
	assert.Equal(t, certs[0].Raw, certs3[2].Raw, "the previous CA stays")
	assert.True(t, verifies(t, serving, third, x509.ExtKeyUsageServerAuth), "leaves of the previous CA are trusted")
	assert.False(t, verifiesOldLeaf(t, oldServing, third), "leaves of the first CA are not")
}

// verifiesOldLeaf reports whether a leaf of the first CA verifies against bundle.
func verifiesOldLeaf(t *testing.T, leafPEM, bundle []byte) bool {
	t.Helper()
	f := filepath.Join(t.TempDir(), "old.crt")
	require.NoError(t, os.WriteFile(f, leafPEM, 0o644))
	return verifies(t, f, bundle, x509.ExtKeyUsageServerAuth)
}

func TestRotateCACutShortKeepsSigning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startServerPKI(t, dir)
	p := Paths{Dir: dir}
	oldKey, _ := os.ReadFile(p.ServerCAKey())
	oldCA, _ := os.ReadFile(p.ServerCA())
	require.NoError(t, RotateCA(p, "", time.Now()))
	// As if killed between the bundle and the key.
	require.NoError(t, os.WriteFile(p.ServerCAKey(), oldKey, 0o600))

	ca, err := LoadCA(p.ServerCA(), p.ServerCAKey(), time.Now())
	require.NoError(t, err, "the old key finds its CA in the new bundle")
	old, _ := parseCert(oldCA)
	assert.Equal(t, old.Raw, ca.Cert.Raw)
	assert.Empty(t, ca.Chain)
	startServerPKI(t, dir) // a start works

	require.NoError(t, RotateCA(p, "", time.Now()), "a re-run completes the rotation")
	ca, err = LoadCA(p.ServerCA(), p.ServerCAKey(), time.Now())
	require.NoError(t, err)
	first, _ := parseCert(ca.CertPEM)
	assert.Equal(t, first.Raw, ca.Cert.Raw)
	assert.NotEmpty(t, ca.Chain)
}

func TestRotateCAFromDir(t *testing.T) {
	t.Parallel()
	dir, from := t.TempDir(), t.TempDir()
	startServerPKI(t, dir)
	p := Paths{Dir: dir}
	now := time.Now()
	for _, f := range p.cas() {
		ca, err := newCA("custom-"+f.commonName, now)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(from, filepath.Base(f.cert)), ca.CertPEM, 0o644))
		require.NoError(t, writeKey(filepath.Join(from, filepath.Base(f.key)), ca.Key))
	}
	require.NoError(t, RotateCA(p, from, now))
	ca, err := LoadCA(p.ServerCA(), p.ServerCAKey(), now)
	require.NoError(t, err)
	assert.Contains(t, ca.Cert.Subject.CommonName, "custom-wren-server-ca@")

	// The same CA again is refused, and a missing file is named.
	err = RotateCA(p, from, now)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing to rotate")
	require.NoError(t, os.Remove(filepath.Join(from, "client-ca.key")))
	err = RotateCA(p, t.TempDir(), now)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--path")
	assert.Contains(t, err.Error(), "server-ca.crt")
}

func TestServerPKIStartAfterRotateCA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startServerPKI(t, dir)
	p := Paths{Dir: dir}
	require.NoError(t, RotateCA(p, "", time.Now()))
	// Without RotateLeaves, a start reissues every leaf from the new CAs.
	startServerPKI(t, dir)
	serving, _ := p.ServingAPIServer()
	b, _ := os.ReadFile(serving)
	leaf, _ := parseCert(b)
	bundle, _ := os.ReadFile(p.ServerCA())
	first, _ := parseCert(bundle)
	assert.NoError(t, leaf.CheckSignatureFrom(first))
}
