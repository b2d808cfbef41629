// SPDX-License-Identifier: Apache-2.0

// Package pki creates, loads and renews wren's certificate authorities, leaf
// certificates and the service-account key. It never replaces an existing CA.
package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// Lifetimes and the renewal window, as k3s. Leaves live LeafLifetime unless
// $WREN_NEW_SIGNED_CERT_VALIDITY says otherwise, and are renewed RenewWindow
// (at most half their lifetime) before they expire.
const (
	CALifetime   = 10 * 365 * 24 * time.Hour
	LeafLifetime = 365 * 24 * time.Hour
	RenewWindow  = 90 * 24 * time.Hour
)

// CA is a loaded certificate authority.
type CA struct {
	// Cert is the bundle's certificate for Key: the one that signs.
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertPEM is the whole bundle file: what peers of this CA trust.
	CertPEM []byte
	// Chain holds the bundle's other certificates for Key (the new CA
	// cross-signed by the one it replaced, see RotateCA), PEM. Every leaf
	// carries it, so peers that trust only the previous CA accept the leaf.
	Chain []byte
}

// LeafSpec describes a leaf certificate.
type LeafSpec struct {
	CommonName string
	Orgs       []string
	DNS        []string
	IPs        []netip.Addr
	// Server marks a serving certificate; otherwise it is a client certificate.
	Server bool
}

// LoadOrCreateCA loads the CA at certPath/keyPath, or creates one when neither
// file exists. A half-present or expired CA is an error: a CA is never replaced
// behind the user's back, since every certificate and token depends on it.
func LoadOrCreateCA(certPath, keyPath, commonName string, now time.Time) (*CA, error) {
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist):
		return createCA(certPath, keyPath, commonName, now)
	case certErr != nil && !errors.Is(certErr, os.ErrNotExist):
		return nil, certErr
	case keyErr != nil && !errors.Is(keyErr, os.ErrNotExist):
		return nil, keyErr
	case certErr != nil:
		return nil, fmt.Errorf("CA key %s exists but its certificate %s is missing: refusing to replace the CA", keyPath, certPath)
	case keyErr != nil:
		return nil, fmt.Errorf("CA certificate %s exists but its key %s is missing: refusing to replace the CA", certPath, keyPath)
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	ca, err := caFromBundle(certPEM, key)
	if errors.Is(err, errKeyNotInBundle) {
		return nil, fmt.Errorf("CA key %s does not belong to certificate %s", keyPath, certPath)
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	if now.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("CA %s expired on %s: every certificate it signed is invalid", certPath, ca.Cert.NotAfter.Format(time.DateOnly))
	}
	return ca, nil
}

var errKeyNotInBundle = errors.New("no certificate in the bundle belongs to the CA key")

// caFromBundle finds key's CA certificate in a bundle: the first certificate
// for key that signed itself, else the first for key. During a crash in the
// middle of RotateCA the bundle is already new and the key still the old
// one, so the old CA goes on signing and a re-run completes the rotation.
func caFromBundle(bundle []byte, key crypto.Signer) (*CA, error) {
	certs, err := parseCerts(bundle)
	if err != nil {
		return nil, err
	}
	var own []*x509.Certificate
	for _, c := range certs {
		if samePublicKey(c.PublicKey, key.Public()) {
			own = append(own, c)
		}
	}
	if len(own) == 0 {
		return nil, errKeyNotInBundle
	}
	i := slices.IndexFunc(own, func(c *x509.Certificate) bool { return c.CheckSignatureFrom(c) == nil })
	if i < 0 {
		i = 0
	}
	ca := &CA{Cert: own[i], Key: key, CertPEM: bundle}
	if !ca.Cert.IsCA {
		return nil, errors.New("not a CA certificate")
	}
	for j, c := range own {
		if j != i && c.IsCA {
			ca.Chain = append(ca.Chain, certPEM(c)...)
		}
	}
	return ca, nil
}

func createCA(certPath, keyPath, commonName string, now time.Time) (*CA, error) {
	ca, err := newCA(commonName, now)
	if err != nil {
		return nil, err
	}
	// Key first: a crash between the two writes leaves a key without a
	// certificate, which the next start reports instead of silently replacing.
	if err := writeKey(keyPath, ca.Key); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(certPath, ca.CertPEM, 0o644); err != nil {
		return nil, err
	}
	return ca, nil
}

// newCA makes a self-signed CA valid CALifetime; its CN is commonName@<unix time>.
func newCA(commonName string, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s@%d", commonName, now.Unix())},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key, CertPEM: certPEM(cert)}, nil
}

// EnsureLeaf makes sure certPath holds a certificate for spec, signed by ca and
// outside its renewal window. Otherwise it issues a new one, keeping the
// existing key when there is one. It reports whether it wrote a certificate.
func EnsureLeaf(ca *CA, spec LeafSpec, certPath, keyPath string, now time.Time) (bool, error) {
	key, err := readKey(keyPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	if err == nil {
		if b, err := os.ReadFile(certPath); err == nil {
			if cert, err := parseCert(b); err == nil && leafIsCurrent(cert, key, ca, spec, now) {
				return false, nil
			}
		}
	} else {
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return false, err
		}
		if err := writeKey(keyPath, key); err != nil {
			return false, err
		}
	}
	certPEM, err := issue(ca, spec, key.Public(), now)
	if err != nil {
		return false, err
	}
	return true, atomicfile.Write(certPath, certPEM, 0o644)
}

func leafIsCurrent(cert *x509.Certificate, key crypto.Signer, ca *CA, spec LeafSpec, now time.Time) bool {
	if cert.CheckSignatureFrom(ca.Cert) != nil || !samePublicKey(cert.PublicKey, key.Public()) {
		return false
	}
	if cert.NotAfter.Sub(now) < renewWindow(cert.NotBefore, cert.NotAfter) || now.Before(cert.NotBefore) {
		return false
	}
	if cert.Subject.CommonName != spec.CommonName || !slices.Equal(cert.Subject.Organization, spec.Orgs) {
		return false
	}
	if !slices.Equal(cert.DNSNames, spec.DNS) || len(cert.IPAddresses) != len(spec.IPs) {
		return false
	}
	for i, ip := range spec.IPs {
		if !cert.IPAddresses[i].Equal(net.IP(ip.AsSlice())) {
			return false
		}
	}
	return true
}

func issue(ca *CA, spec LeafSpec, pub crypto.PublicKey, now time.Time) ([]byte, error) {
	usage := x509.ExtKeyUsageClientAuth
	if spec.Server {
		usage = x509.ExtKeyUsageServerAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: spec.CommonName, Organization: spec.Orgs},
		NotBefore:    now.Add(-backdate(newLeafLifetime())),
		NotAfter:     now.Add(newLeafLifetime()),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     spec.DNS,
	}
	for _, ip := range spec.IPs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.AsSlice()))
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", spec.CommonName, err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.Chain...), nil
}

// EnsureRSAKey creates an RSA private key at path unless one is there; it is
// used for the service-account token signing key.
func EnsureRSAKey(path string) error {
	if _, err := readKey(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	return writeKey(path, key)
}

func parseCert(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// parseCerts returns every certificate of a PEM bundle, at least one.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

func readKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM key", path)
	}
	var key any
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported key type", path)
	}
	return signer, nil
}

func writeKey(path string, key crypto.Signer) error {
	var block *pem.Block
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return err
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	case *rsa.PrivateKey:
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	default:
		return fmt.Errorf("unsupported key type %T", key)
	}
	return atomicfile.Write(path, pem.EncodeToMemory(block), 0o600)
}

func samePublicKey(a, b crypto.PublicKey) bool {
	x, err1 := x509.MarshalPKIXPublicKey(a)
	y, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
