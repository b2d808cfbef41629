// SPDX-License-Identifier: Apache-2.0

package payload

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeBinary writes an "executable" with a payload of the given tree appended.
func fakeBinary(t *testing.T, files map[string]string) (string, []byte) {
	t.Helper()
	src := t.TempDir()
	for name, content := range files {
		p := filepath.Join(src, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o755))
	}
	require.NoError(t, os.Symlink("runc", filepath.Join(src, "bin", "runc-link")))
	var tarball bytes.Buffer
	require.NoError(t, Pack(src, &tarball))
	zw, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	packed := zw.EncodeAll(tarball.Bytes(), nil)
	bin := filepath.Join(t.TempDir(), "wren")
	require.NoError(t, os.WriteFile(bin, []byte("\x7fELF pretend program text"), 0o755))
	require.NoError(t, Append(bin, packed))
	return bin, packed
}

// extractAndAdopt does what the launcher and then the wren program do.
func extractAndAdopt(t *testing.T, p *Payload, data string) string {
	t.Helper()
	dir, err := p.Extract(data)
	require.NoError(t, err)
	require.NoError(t, Adopt(data, dir))
	return dir
}

func TestExtractAndAdopt(t *testing.T) {
	t.Parallel()
	bin, _ := fakeBinary(t, map[string]string{"bin/runc": "runc!", "images/pause.tar": "tar"})
	p, err := Open(bin)
	require.NoError(t, err)
	data := t.TempDir()
	dir, err := p.Extract(data)
	require.NoError(t, err)
	_, err = os.Lstat(filepath.Join(data, "current"))
	assert.True(t, os.IsNotExist(err), "extracting alone switches nothing")
	require.NoError(t, Adopt(data, dir))
	b, err := os.ReadFile(filepath.Join(data, "current", "bin", "runc"))
	require.NoError(t, err)
	assert.Equal(t, "runc!", string(b))
	target, _ := os.Readlink(filepath.Join(data, "current", "bin", "runc-link"))
	assert.Equal(t, "runc", target)
	assert.Equal(t, filepath.Join(data, p.Hash()), dir)

	// A second extraction of the same payload reuses the directory.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "marker"), nil, 0o600))
	_, err = p.Extract(data)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, "marker"))

	// A damaged tree (a truncated file) is extracted again.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "runc"), []byte("r"), 0o755))
	_, err = p.Extract(data)
	require.NoError(t, err)
	b, _ = os.ReadFile(filepath.Join(dir, "bin", "runc"))
	assert.Equal(t, "runc!", string(b))

	// Another payload (an upgrade) switches current and keeps previous.
	bin2, _ := fakeBinary(t, map[string]string{"bin/runc": "runc v2"})
	p2, err := Open(bin2)
	require.NoError(t, err)
	extractAndAdopt(t, p2, data)
	cur, _ := os.Readlink(filepath.Join(data, "current"))
	prev, _ := os.Readlink(filepath.Join(data, "previous"))
	assert.Equal(t, p2.Hash(), cur)
	assert.Equal(t, p.Hash(), prev)
}

func TestNoPayload(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, os.WriteFile(bin, make([]byte, 200), 0o755))
	_, err := Open(bin)
	require.ErrorIs(t, err, ErrNoPayload)
}

func TestCorruptPayloadIsRefused(t *testing.T) {
	t.Parallel()
	bin, packed := fakeBinary(t, map[string]string{"bin/runc": "runc!"})
	b, err := os.ReadFile(bin)
	require.NoError(t, err)
	// Flip a byte inside the payload, keeping the trailer.
	off := len(b) - TrailerSize - len(packed) + len(packed)/2
	b[off] ^= 0xff
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	p, err := Open(bin)
	require.NoError(t, err)
	data := t.TempDir()
	_, err = p.Extract(data)
	require.Error(t, err)
	_, statErr := os.Stat(filepath.Join(data, p.Hash()))
	assert.True(t, os.IsNotExist(statErr), "nothing half-written is left in place")
	_, linkErr := os.Readlink(filepath.Join(data, "current"))
	assert.Error(t, linkErr)
}

// Three releases in turn: the oldest payload goes, current and previous
// stay; a payload a running process was started from stays too.
func TestPruneKeepsCurrentPreviousAndInUse(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	var dirs []string
	for _, v := range []string{"v1", "v2", "v3"} {
		bin, _ := fakeBinary(t, map[string]string{"bin/runc": v})
		p, err := Open(bin)
		require.NoError(t, err)
		dirs = append(dirs, extractAndAdopt(t, p, data))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(data, "not-a-payload"), 0o755))
	removed, err := Prune(data)
	require.NoError(t, err)
	assert.Equal(t, []string{dirs[0]}, removed)
	for _, d := range append(dirs[1:], filepath.Join(data, "not-a-payload")) {
		assert.DirExists(t, d)
	}

	// A fourth release while a process runs from the second one's directory.
	b, err := os.ReadFile("/bin/sleep")
	require.NoError(t, err)
	sleeper := filepath.Join(dirs[1], "bin", "sleep")
	require.NoError(t, os.WriteFile(sleeper, b, 0o755))
	cmd := exec.Command(sleeper, "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	bin, _ := fakeBinary(t, map[string]string{"bin/runc": "v4"})
	p, err := Open(bin)
	require.NoError(t, err)
	extractAndAdopt(t, p, data)
	removed, err = Prune(data)
	require.NoError(t, err)
	assert.Empty(t, removed, "v2 runs a process, v3 is previous")
	assert.DirExists(t, dirs[1])
}

// The wren program adopts only a release extracted under its data dir.
func TestAdoptRefusesAForeignOrIncompleteDir(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	err := Adopt(data, "/usr")
	require.ErrorContains(t, err, "not from a release extracted under "+data)
	half := filepath.Join(data, "0123456789abcdef")
	require.NoError(t, os.MkdirAll(half, 0o755))
	require.ErrorContains(t, Adopt(data, half), "is incomplete")
	_, err = os.Lstat(filepath.Join(data, "current"))
	assert.True(t, os.IsNotExist(err))
}

// Two launchers starting at once (a server and a kubectl) extract once and
// both find a complete tree.
func TestConcurrentExtractions(t *testing.T) {
	t.Parallel()
	files := map[string]string{"bin/runc": "runc!"}
	for i := range 50 {
		files[fmt.Sprintf("images/%02d.tar", i)] = strings.Repeat("x", 10000+i)
	}
	bin, _ := fakeBinary(t, files)
	p, err := Open(bin)
	require.NoError(t, err)
	data := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			dir, err := p.Extract(data)
			if err == nil {
				err = checkManifest(dir)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(data, ".extract-*"))
	assert.Empty(t, leftovers)
}
