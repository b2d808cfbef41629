// SPDX-License-Identifier: Apache-2.0

package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layout writes an OCI layout archive with one manifest blob per image.
func layout(t *testing.T, path string, images map[string]map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	tw := tar.NewWriter(f)
	idx := index{SchemaVersion: 2, MediaType: indexMediaType}
	add := func(name string, b []byte) {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(b)
		require.NoError(t, err)
	}
	for name, platform := range images {
		manifest := fmt.Appendf(nil, `{"image":%q,"platform":%q}`, name, platform["architecture"])
		sum := sha256.Sum256(manifest)
		add("blobs/sha256/"+hex.EncodeToString(sum[:]), manifest)
		d, err := json.Marshal(descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json",
			Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(manifest)), Platform: platform,
			Annotations: map[string]string{"io.containerd.image.name": name}})
		require.NoError(t, err)
		idx.Manifests = append(idx.Manifests, d)
	}
	b, err := json.Marshal(idx)
	require.NoError(t, err)
	add("index.json", b)
	require.NoError(t, tw.Close())
}

func TestMultiArchIndexPerName(t *testing.T) {
	dir := t.TempDir()
	amd := map[string]string{"os": "linux", "architecture": "amd64"}
	arm := map[string]string{"os": "linux", "architecture": "arm", "variant": "v7"}
	layout(t, filepath.Join(dir, "amd64.tar"), map[string]map[string]string{"x/pause:1": amd, "x/dns:2": amd})
	layout(t, filepath.Join(dir, "armv7.tar"), map[string]map[string]string{"x/pause:1": arm, "x/dns:2": arm})
	out := filepath.Join(dir, "all.tar")
	require.NoError(t, merge(out, []string{filepath.Join(dir, "amd64.tar"), filepath.Join(dir, "armv7.tar")}, true))

	blobs := map[string][]byte{}
	top, err := read(out, blobs)
	require.NoError(t, err)
	require.Len(t, top.Manifests, 2, "one index per image name")
	for i, want := range []string{"x/dns:2", "x/pause:1"} {
		var d descriptor
		require.NoError(t, json.Unmarshal(top.Manifests[i], &d))
		assert.Equal(t, indexMediaType, d.MediaType)
		assert.Equal(t, want, d.Annotations["io.containerd.image.name"])
		b := blobs["blobs/sha256/"+d.Digest[len("sha256:"):]]
		require.NotNil(t, b, "the index blob is in the archive")
		sum := sha256.Sum256(b)
		assert.Equal(t, d.Digest, "sha256:"+hex.EncodeToString(sum[:]))
		assert.Equal(t, int64(len(b)), d.Size)
		var nested struct{ Manifests []descriptor }
		require.NoError(t, json.Unmarshal(b, &nested))
		require.Len(t, nested.Manifests, 2)
		var archs []string
		for _, m := range nested.Manifests {
			archs = append(archs, m.Platform["architecture"]+m.Platform["variant"])
			assert.NotNil(t, blobs["blobs/sha256/"+m.Digest[len("sha256:"):]], "each platform's manifest is in the archive")
		}
		assert.ElementsMatch(t, []string{"amd64", "armv7"}, archs)
	}
}

func TestMultiArchRefusesTwoManifestsForOnePlatform(t *testing.T) {
	dir := t.TempDir()
	amd := map[string]string{"os": "linux", "architecture": "amd64"}
	layout(t, filepath.Join(dir, "a.tar"), map[string]map[string]string{"x/pause:1": amd})
	err := merge(filepath.Join(dir, "all.tar"), []string{filepath.Join(dir, "a.tar"), filepath.Join(dir, "a.tar")}, true)
	assert.ErrorContains(t, err, "x/pause:1: two manifests for")
}
