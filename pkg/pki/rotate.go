// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// RotateLeaves signs a new certificate, with the same subject, names, usage
// and key, for every leaf certificate (*.crt that is not a CA) under dirs
// that a certificate of one of the server's CA bundles (caPaths) signed,
// with that bundle's current CA: after RotateCA, the leaves move to the new
// CAs. A running server's components and node pick the new files up. It
// returns the files rewritten.
func RotateLeaves(caPaths Paths, now time.Time, dirs ...string) ([]string, error) {
	type family struct {
		signer  *CA
		members []*x509.Certificate
	}
	var cas []family
	for _, f := range caPaths.cas() {
		ca, err := LoadCA(f.cert, f.key, now)
		if err != nil {
			return nil, err
		}
		members, err := parseCerts(ca.CertPEM)
		if err != nil {
			return nil, fmt.Errorf("CA %s: %w", f.cert, err)
		}
		cas = append(cas, family{signer: ca, members: members})
	}
	var rotated []string
	err := walkCerts(dirs, func(path string, cert *x509.Certificate) error {
		if cert.IsCA {
			return nil
		}
		i := slices.IndexFunc(cas, func(f family) bool {
			return slices.ContainsFunc(f.members, func(ca *x509.Certificate) bool { return cert.CheckSignatureFrom(ca) == nil })
		})
		if i < 0 {
			return nil // not wren's (or signed by a CA since replaced)
		}
		pem, err := issue(cas[i].signer, specOf(cert), cert.PublicKey, now)
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
