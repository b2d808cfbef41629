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

func TestInventory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	ca, err := LoadOrCreateCA(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), "test-ca", now)
	require.NoError(t, err)
	// A leaf made a year minus 30 days ago expires in 30 days: a warning.
	_, err = EnsureLeaf(ca, LeafSpec{CommonName: "old"}, filepath.Join(dir, "sub", "old.crt"), filepath.Join(dir, "sub", "old.key"), now.Add(-335*24*time.Hour))
	require.NoError(t, err)
	_, err = EnsureLeaf(ca, LeafSpec{CommonName: "new"}, filepath.Join(dir, "new.crt"), filepath.Join(dir, "new.key"), now)
	require.NoError(t, err)

	certs, err := Inventory(dir, filepath.Join(dir, "missing"))
	require.NoError(t, err)
	require.Len(t, certs, 3)
	byName := map[string]CertInfo{}
	for _, c := range certs {
		byName[filepath.Base(c.Path)] = c
	}
	assert.True(t, byName["ca.crt"].IsCA)
	assert.Equal(t, "OK", byName["ca.crt"].Status(now))
	assert.Equal(t, "OK", byName["new.crt"].Status(now))
	assert.Equal(t, "WARNING", byName["old.crt"].Status(now))
	assert.Equal(t, "EXPIRED", byName["old.crt"].Status(now.Add(31*24*time.Hour)))
	assert.Contains(t, byName["new.crt"].Subject, "CN=new")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.crt"), []byte("not a cert"), 0o644))
	_, err = Inventory(dir)
	assert.ErrorContains(t, err, "junk.crt")
}
