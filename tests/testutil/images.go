// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// AgnhostTarball is the agnhost image built from source by make build.
func AgnhostTarball(t testing.TB) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), "build", "images", "agnhost.tar")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: run make build", p)
	}
	return p
}

// AgnhostImage is the name agnhost is published under (scripts/images/versions.env).
const AgnhostImage = "registry.k8s.io/e2e-test-images/agnhost:2.63.0"

// BuildGoBinary compiles a static binary from a package of this repository.
func BuildGoBinary(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// WriteDockerArchive writes a gzip-compressed docker-archive image (the
// `docker save` format, unlike the OCI layout wren's build produces) holding
// one binary as its entrypoint.
func WriteDockerArchive(t testing.TB, path, name, binary, entrypoint string) {
	t.Helper()
	bin, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	must(t, tw.WriteHeader(&tar.Header{Name: entrypoint[1:], Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}))
	_, err = tw.Write(bin)
	must(t, err)
	must(t, tw.Close())
	sum := sha256.Sum256(layer.Bytes())
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	config, _ := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Entrypoint": []string{entrypoint}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	csum := sha256.Sum256(config)
	configName := hex.EncodeToString(csum[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{name}, "Layers": []string{"layer.tar"}}})

	f, err := os.Create(path)
	must(t, err)
	defer f.Close()
	zw := gzip.NewWriter(f)
	out := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		data []byte
	}{{"manifest.json", manifest}, {configName, config}, {"layer.tar", layer.Bytes()}} {
		must(t, out.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}))
		_, err := out.Write(e.data)
		must(t, err)
	}
	must(t, out.Close())
	must(t, zw.Close())
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
