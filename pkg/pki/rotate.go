// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// RotateLeaves signs a new certificate, with the same subject, names, usage
// and key, for every leaf certificate (*.crt that is not a CA) under dirs
// that one of the CAs in caPaths signed. A running server's components and
// node pick the new files up. It returns the files rewritten.
func RotateLeaves(caPaths Paths, now time.Time, dirs ...string) ([]string, error) {
	var cas []*CA
	for _, f := range [][2]string{
		{caPaths.ServerCA(), caPaths.ServerCAKey()},
		{caPaths.ClientCA(), caPaths.ClientCAKey()},
		{caPaths.RequestHeaderCA(), caPaths.RequestHeaderCAKey()},
	} {
		ca, err := loadCA(f[0], f[1])
		if err != nil {
			return nil, fmt.Errorf("CA %s: %w", f[0], err)
		}
		cas = append(cas, ca)
	}
	var rotated []string
	err := walkCerts(dirs, func(path string, cert *x509.Certificate) error {
		if cert.IsCA {
			return nil
		}
		i := slices.IndexFunc(cas, func(ca *CA) bool { return cert.CheckSignatureFrom(ca.Cert) == nil })
		if i < 0 {
			return nil // not wren's (or signed by a CA since replaced)
		}
		pem, err := issue(cas[i], specOf(cert), cert.PublicKey, now)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(path, pem, 0o644); err != nil {
			return err
		}
		rotated = append(rotated, path)
		return nil
	})
	return rotated, err
}

// specOf is the LeafSpec a certificate was issued for.
func specOf(cert *x509.Certificate) LeafSpec {
	spec := LeafSpec{CommonName: cert.Subject.CommonName, Orgs: cert.Subject.Organization, DNS: cert.DNSNames,
		Server: slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth)}
	for _, ip := range cert.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			spec.IPs = append(spec.IPs, a.Unmap())
		}
	}
	return spec
}

// loadCA reads an existing CA and its key.
func loadCA(certPath, keyPath string) (*CA, error) {
	b, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	cert, err := parseCert(b)
	if err != nil {
		return nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: b}, nil
}
