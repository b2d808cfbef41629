// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignCSRKeepsKeyOnNode(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	_, err := LoadCA(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), now)
	require.Error(t, err, "the remote signer never creates a CA")
	ca, err := LoadOrCreateCA(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), "test-ca", now)
	require.NoError(t, err)
	key := filepath.Join(dir, "node.key")
	csr, err := KeyCSR(key, "whatever-the-node-asks")
	require.NoError(t, err)
	spec := LeafSpec{CommonName: "system:node:n1", Orgs: []string{"system:nodes"}}
	cert, err := SignCSR(ca, spec, csr, now)
	require.NoError(t, err)
	certPath := filepath.Join(dir, "node.crt")
	require.NoError(t, os.WriteFile(certPath, cert, 0o644))
	assert.True(t, LeafCurrent(ca.CertPEM, spec, certPath, key, now), "certifies the spec, not the request's subject")
	csr2, err := KeyCSR(key, "x")
	require.NoError(t, err)
	assert.NotEqual(t, string(csr), "", "same key reused: %d bytes", len(csr2))
	_, err = SignCSR(ca, spec, []byte("garbage"), now)
	assert.Error(t, err)
}
