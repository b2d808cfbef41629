// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// WarnBefore is how long before expiry `wren certificate check` warns.
const WarnBefore = 90 * 24 * time.Hour

// CertInfo is one certificate file as `wren certificate check` lists it.
type CertInfo struct {
	Path     string
	Subject  string
	IsCA     bool
	NotAfter time.Time
}

// Status is OK, WARNING (expires within WarnBefore) or EXPIRED at now.
func (c CertInfo) Status(now time.Time) string {
	switch {
	case !now.Before(c.NotAfter):
		return "EXPIRED"
	case c.NotAfter.Sub(now) < WarnBefore:
		return "WARNING"
	}
	return "OK"
}

// Inventory lists the certificates (*.crt, the first certificate of each)
// under dirs, sorted by path; missing dirs are skipped. A file that is not a
// certificate is an error naming it.
func Inventory(dirs ...string) ([]CertInfo, error) {
	var out []CertInfo
	err := walkCerts(dirs, func(path string, cert *x509.Certificate) error {
		out = append(out, CertInfo{Path: path, Subject: cert.Subject.String(), IsCA: cert.IsCA, NotAfter: cert.NotAfter})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// walkCerts calls fn with every certificate file (*.crt, its first
// certificate) under dirs; missing dirs are skipped, a file that is not a
// certificate is an error naming it.
func walkCerts(dirs []string, fn func(path string, cert *x509.Certificate) error) error {
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == dir {
					return fs.SkipDir
				}
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".crt") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			cert, err := parseCert(b)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			return fn(path, cert)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
