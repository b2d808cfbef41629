// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScanPicksManifestsAndSkips(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"a.yaml": "a", "sub/b.yml": "b", "c.json": "c", "notes.txt": "x", "coredns.yaml.bundled": "x",
		"coredns.yaml.disabled": "x", ".hidden.yaml": "x", ".wren-staged.json": "x", "d.yaml": "d", "d.yaml.skip": "",
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	files, skipped, err := scan(dir)
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"a.yaml": []byte("a"), "sub/b.yml": []byte("b"), "c.json": []byte("c")}, files)
	assert.Equal(t, map[string]bool{"d.yaml": true}, skipped)
}
