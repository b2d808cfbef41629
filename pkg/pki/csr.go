// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// LoadCA loads an existing CA and fails if it is not there: the signer of a
// remote node's certificates never creates one.
func LoadCA(certPath, keyPath string, now time.Time) (*CA, error) {
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("CA %s: %w", p, err)
		}
	}
	return LoadOrCreateCA(certPath, keyPath, "", now)
}

// KeyCSR makes sure keyPath holds a private key (creating one if needed) and
// returns a PEM certificate request for it: the key never leaves the node.
// The subject is informational; the signer decides what it certifies.
func KeyCSR(keyPath, commonName string) ([]byte, error) {
	key, err := readKey(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		var ec *ecdsa.PrivateKey
		if ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
		if err = writeKey(keyPath, ec); err != nil {
			return nil, err
		}
		key = ec
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: commonName}}, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// SignCSR issues a certificate for spec to the public key of a PEM
// certificate request, after checking the request's self-signature (proof
// that the requester holds the key). The request's own subject is ignored.
func SignCSR(ca *CA, spec LeafSpec, csrPEM []byte, now time.Time) ([]byte, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("no PEM certificate request")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request signature: %w", err)
	}
	return issue(ca, spec, csr.PublicKey, now)
}

// LeafCurrent reports whether certPath holds a certificate for spec that
// chains to caPEM, matches the key at keyPath and is valid for more than
// RenewWindow at now. A node uses it to decide whether to ask for new ones.
func LeafCurrent(caPEM []byte, spec LeafSpec, certPath, keyPath string, now time.Time) bool {
	caCert, err := parseCert(caPEM)
	if err != nil {
		return false
	}
	key, err := readKey(keyPath)
	if err != nil {
		return false
	}
	b, err := os.ReadFile(certPath)
	if err != nil {
		return false
	}
	cert, err := parseCert(b)
	return err == nil && leafIsCurrent(cert, key, &CA{Cert: caCert}, spec, now)
}

// CertValidity returns the validity window of the PEM certificate at path.
func CertValidity(path string) (notBefore, notAfter time.Time, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	cert, err := parseCert(b)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%s: %w", path, err)
	}
	return cert.NotBefore, cert.NotAfter, nil
}
