// SPDX-License-Identifier: Apache-2.0

package join

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/pkg/pki"
	"github.com/wren-k8s/wren/pkg/token"
)

// testServer is a TLS server speaking the join protocol, whose serving
// certificate is valid from notBefore to notAfter. It accepts secret "good".
func testServer(t *testing.T, notBefore, notAfter time.Time) (url string, caPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "server"}, NotBefore: notBefore, NotAfter: notAfter,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case PathCACerts:
			_, _ = w.Write(caPEM)
		case PathConfig:
			if _, secret, _ := r.BasicAuth(); secret != "good" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			_ = json.NewEncoder(w).Encode(AgentConfig{ClusterCIDR: "10.42.0.0/16"})
		default:
			http.NotFound(w, r)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, caPEM
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestJoinClient(t *testing.T) {
	t.Parallel()
	now := time.Now()
	url, ca := testServer(t, now.Add(-time.Hour), now.Add(time.Hour))
	ctx := context.Background()
	pinned := token.Token{CAHash: token.CAHash(ca), User: token.UserNode, Secret: "good"}

	c, err := Dial(ctx, url, pinned, quiet())
	require.NoError(t, err)
	cfg, err := c.Config(ctx)
	require.NoError(t, err)
	assert.Equal(t, "10.42.0.0/16", cfg.ClusterCIDR)

	bad := pinned
	bad.Secret = "bad"
	c, err = Dial(ctx, url, bad, quiet())
	require.NoError(t, err)
	_, err = c.Config(ctx)
	assert.ErrorContains(t, err, "wrong or expired token")

	other := pinned
	other.CAHash = strings.Repeat("ab", 32)
	_, err = Dial(ctx, url, other, quiet())
	assert.ErrorContains(t, err, "the token is for another cluster")

	notWren := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(notWren.Close)
	_, err = Dial(ctx, notWren.URL, pinned, quiet())
	assert.ErrorContains(t, err, "is not a wren server")

	_, err = Dial(ctx, "https://127.0.0.1:1", pinned, quiet())
	assert.ErrorIs(t, err, ErrUnreachable)
}

// A machine whose clock is far behind (or ahead of) the server's sees the
// server's certificate as not yet valid (or expired): the error says to
// check the clock rather than looking like a network failure.
func TestJoinClockSkew(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for name, window := range map[string][2]time.Time{
		"clock behind": {now.Add(48 * time.Hour), now.Add(96 * time.Hour)},
		"clock ahead":  {now.Add(-96 * time.Hour), now.Add(-48 * time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url, ca := testServer(t, window[0], window[1])
			tok := token.Token{CAHash: token.CAHash(ca), User: token.UserNode, Secret: "good"}
			c, err := Dial(context.Background(), url, tok, quiet())
			require.NoError(t, err, "the CA download does not verify the certificate")
			_, err = c.Config(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "not valid at this machine's time")
			assert.Contains(t, err.Error(), "check the clock")
			assert.NotErrorIs(t, err, ErrUnreachable, "not retried as if the network were down")
		})
	}
}

// caServer serves bundle at /cacerts with the given serving certificate files.
func caServer(t *testing.T, bundle []byte, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bundle)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// A token made before `wren certificate rotate-ca` pins the old CA, which
// the rotated bundle keeps: it joins when the server's certificate chains
// to that CA, and an impostor that merely appends the old CA to its own
// bundle is refused.
func TestJoinAfterCARotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, pki.NewServer(dir, []string{"localhost"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, quiet()).Start(ctx))
	p := pki.Paths{Dir: dir}
	oldCA, err := os.ReadFile(p.ServerCA())
	require.NoError(t, err)
	old := token.Token{CAHash: token.CAHash(oldCA), User: token.UserNode, Secret: "good"}
	require.NoError(t, pki.RotateCA(p, "", time.Now()))
	_, err = pki.RotateLeaves(p, time.Now(), dir)
	require.NoError(t, err)
	newCA, err := os.ReadFile(p.ServerCA())
	require.NoError(t, err)
	cert, err := tls.LoadX509KeyPair(p.ServingAPIServer())
	require.NoError(t, err)
	url := caServer(t, newCA, cert)

	c, err := Dial(ctx, url, old, quiet())
	require.NoError(t, err, "a token pinning the previous CA")
	assert.Equal(t, newCA, c.CA)
	_, err = Dial(ctx, url, token.Token{CAHash: token.CAHash(newCA), User: token.UserNode, Secret: "good"}, quiet())
	require.NoError(t, err, "a token pinning the new CA")

	// An impostor: a server PKI of its own, serving its CA with the old one appended.
	other := t.TempDir()
	require.NoError(t, pki.NewServer(other, []string{"localhost"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, quiet()).Start(ctx))
	op := pki.Paths{Dir: other}
	impostorCA, err := os.ReadFile(op.ServerCA())
	require.NoError(t, err)
	impostorCert, err := tls.LoadX509KeyPair(op.ServingAPIServer())
	require.NoError(t, err)
	evil := caServer(t, append(append([]byte{}, impostorCA...), oldCA...), impostorCert)
	_, err = Dial(ctx, evil, old, quiet())
	assert.ErrorContains(t, err, "the token is for another cluster")
}
