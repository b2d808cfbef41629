// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// caFile is one of the server's CAs: its files and the CN wren gives it.
type caFile struct{ cert, key, commonName string }

// cas lists the server's CAs, in the order RotateCA replaces them.
func (p Paths) cas() []caFile {
	return []caFile{
		{p.ServerCA(), p.ServerCAKey(), "wren-server-ca"},
		{p.ClientCA(), p.ClientCAKey(), "wren-client-ca"},
		{p.RequestHeaderCA(), p.RequestHeaderCAKey(), "wren-request-header-ca"},
	}
}

// RotateCA replaces the server's CAs (server, client, request-header) with
// new ones: read from fromDir when it is given (server-ca.crt and
// server-ca.key and so on, the names of the files under the server's tls
// directory; the certificate file may carry the CA's issuers after it), else
// generated. Each new CA is cross-signed by the CA it replaces, and each
// bundle file becomes: new CA, the cross-signed copy, the replaced CA.
//
// That is the overlap: peers given the new bundle trust certificates of
// both CAs, and the leaves the new CA signs carry the cross-signed copy, so
// peers that still have only the replaced CA (a kubeconfig copied last
// year, a pod's service-account CA, an agent not yet refreshed) accept them
// too. A CA older than the replaced one leaves the bundle. The caller then
// reissues the leaves (RotateLeaves); running servers and nodes pick up
// the files, and nodes fetch the new bundle within RenewInterval.
func RotateCA(p Paths, fromDir string, now time.Time) error {
	type staged struct {
		f      caFile
		bundle []byte
		next   *CA
	}
	var all []staged
	for _, f := range p.cas() {
		cur, err := LoadCA(f.cert, f.key, now)
		if err != nil {
			return err
		}
		next, err := nextCA(f, fromDir, cur, now)
		if err != nil {
			return err
		}
		cross, err := crossSign(next.Cert, cur, now)
		if err != nil {
			return fmt.Errorf("cross-sign the new %s: %w", filepath.Base(f.cert), err)
		}
		bundle := append(append(append([]byte{}, next.CertPEM...), cross...), certPEM(cur.Cert)...)
		all = append(all, staged{f: f, bundle: bundle, next: next})
	}
	// Everything is checked and signed before the first write. Bundle before
	// key: a crash between the two leaves the old key, which still finds its
	// CA in the new bundle and goes on signing (see caFromBundle).
	for _, s := range all {
		if err := atomicfile.Write(s.f.cert, s.bundle, 0o644); err != nil {
			return err
		}
		if err := writeKey(s.f.key, s.next.Key); err != nil {
			return err
		}
		if err := writeNoChain(s.f.cert, s.next); err != nil {
			return err
		}
	}
	return nil
}

// writeNoChain keeps NoChain(caFile) holding ca's signing certificate.
func writeNoChain(caFile string, ca *CA) error {
	_, err := atomicfile.Update(NoChain(caFile), certPEM(ca.Cert), 0o644)
	return err
}

// nextCA is the CA that replaces cur: the user's from fromDir, or a new one.
func nextCA(f caFile, fromDir string, cur *CA, now time.Time) (*CA, error) {
	if fromDir == "" {
		next, err := newCA(f.commonName, now)
		if err == nil && next.Cert.Subject.String() == cur.Cert.Subject.String() {
			next, err = newCA(f.commonName, now.Add(time.Second)) // a distinct name for chain building
		}
		return next, err
	}
	certPath := filepath.Join(fromDir, filepath.Base(f.cert))
	keyPath := filepath.Join(fromDir, filepath.Base(f.key))
	b, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("--path: %w", err)
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, fmt.Errorf("--path: %w", err)
	}
	next, err := caFromBundle(b, key)
	switch {
	case err != nil:
		return nil, fmt.Errorf("--path: %s: %w", certPath, err)
	case now.After(next.Cert.NotAfter) || now.Before(next.Cert.NotBefore):
		return nil, fmt.Errorf("--path: %s is not valid now (%s to %s)", certPath,
			next.Cert.NotBefore.Format(time.DateOnly), next.Cert.NotAfter.Format(time.DateOnly))
	case samePublicKey(next.Cert.PublicKey, cur.Key.Public()):
		return nil, fmt.Errorf("--path: %s has the key of the current CA %s: nothing to rotate", certPath, f.cert)
	case next.Cert.Subject.String() == cur.Cert.Subject.String():
		return nil, fmt.Errorf("--path: %s has the same subject as the current CA %s: give the new CA its own name", certPath, f.cert)
	}
	next.Chain = nil // the user's own issuers stay in the bundle, not in every leaf
	return next, nil
}

// crossSign certifies next's subject and key with cur: the certificate that
// lets peers trusting only cur verify what next signs. It lives no longer
// than either CA.
func crossSign(next *x509.Certificate, cur *CA, now time.Time) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               next.Subject,
		SubjectKeyId:          next.SubjectKeyId,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              minTime(next.NotAfter, cur.Cert.NotAfter),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, cur.Cert, next.PublicKey, cur.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
