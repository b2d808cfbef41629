// SPDX-License-Identifier: Apache-2.0

// Package tlsroots verifies TLS servers against a CA bundle that can change
// while the client lives: after `wren certificate rotate-ca` a long-running
// client must trust the new bundle without being rebuilt.
package tlsroots

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
)

// Config returns a client TLS config that verifies the server's
// certificate chain and name against roots(), asked at each handshake.
// InsecureSkipVerify only turns off the built-in check, which would use a
// fixed pool: VerifyConnection does the same check with the current one.
func Config(roots func() (*x509.CertPool, error)) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified by VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			pool, err := roots()
			if err != nil {
				return err
			}
			return Verify(cs, pool)
		},
	}
}

// Verify checks a connection's server chain and name against pool, as
// crypto/tls does by default.
func Verify(cs tls.ConnectionState, pool *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots: pool, Intermediates: inter, DNSName: cs.ServerName,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// File returns the pool of the PEM bundle at path, read at each call.
func File(path string) func() (*x509.CertPool, error) {
	return func() (*x509.CertPool, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, errors.New(path + ": no PEM certificate")
		}
		return pool, nil
	}
}
