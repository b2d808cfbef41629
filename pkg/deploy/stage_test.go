// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stager(t *testing.T, dir string, content string, disabled ...string) *Stager {
	t.Helper()
	d := map[string]bool{}
	for _, x := range disabled {
		d[x] = true
	}
	return &Stager{
		Dir:      dir,
		Bundled:  fstest.MapFS{"coredns.yaml": {Data: []byte(content)}, "notes.txt": {Data: []byte("ignored")}},
		Vars:     map[string]string{"CLUSTER_DNS": "10.43.0.10"},
		Disabled: d,
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestStageRenderUpgradeAndUserEdits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "coredns.yaml")

	require.NoError(t, stager(t, dir, "dns: %{CLUSTER_DNS}% v1").Stage())
	assert.Equal(t, "dns: 10.43.0.10 v1", read(t, target))
	assert.NoFileExists(t, filepath.Join(dir, "notes.txt"))

	// An unchanged file follows the bundled version.
	require.NoError(t, stager(t, dir, "dns: %{CLUSTER_DNS}% v2").Stage())
	assert.Equal(t, "dns: 10.43.0.10 v2", read(t, target))

	// A user's edit survives, with the bundled version next to it.
	require.NoError(t, os.WriteFile(target, []byte("my own dns"), 0o644))
	require.NoError(t, stager(t, dir, "dns: %{CLUSTER_DNS}% v3").Stage())
	assert.Equal(t, "my own dns", read(t, target))
	assert.Equal(t, "dns: 10.43.0.10 v3", read(t, target+".bundled"))

	// A deleted bundled file comes back (use --disable to turn it off).
	require.NoError(t, os.Remove(target))
	require.NoError(t, stager(t, dir, "dns: %{CLUSTER_DNS}% v3").Stage())
	assert.Equal(t, "dns: 10.43.0.10 v3", read(t, target))
	assert.NoFileExists(t, target+".bundled")

	// --disable removes it.
	require.NoError(t, stager(t, dir, "dns: v3", "coredns").Stage())
	assert.NoFileExists(t, target)

	// --disable keeps a user's edit aside, where it is not applied.
	require.NoError(t, stager(t, dir, "dns: v4").Stage())
	require.NoError(t, os.WriteFile(target, []byte("my dns again"), 0o644))
	require.NoError(t, stager(t, dir, "dns: v4", "coredns").Stage())
	assert.NoFileExists(t, target)
	assert.Equal(t, "my dns again", read(t, target+".disabled"))
}

func TestRenderAndAddonName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "a 1 b 2 %{C}%", Render("a %{A}% b %{B}% %{C}%", map[string]string{"A": "1", "B": "2"}))
	assert.Equal(t, "metrics-server", AddonName("metrics-server.yaml"))
}
