// SPDX-License-Identifier: Apache-2.0

//go:build cross

package cross

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// TestMultiArchImages merges the three builds' images the way make release
// does (one OCI image index per name, wren-airgap-images.tar) and imports the
// archive into a real containerd (this machine's wren): every image lists
// all three platforms, and the one for this machine is complete.
func TestMultiArchImages(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	root := testutil.RepoRoot()
	var tars []string
	for _, dir := range []string{"build", filepath.Join("build", "arm64"), filepath.Join("build", "armv7")} {
		found, _ := filepath.Glob(filepath.Join(root, dir, "payload", "images", "*.tar"))
		require.NotEmpty(t, found, "%s/payload/images: build it first (scripts/test.sh cross)", dir)
		tars = append(tars, found...)
	}
	dir := t.TempDir()
	all := filepath.Join(dir, "wren-airgap-images.tar")
	merge := exec.Command("go", append([]string{"run", "./scripts/images/mergearchive", "-multiarch", "-o", all}, tars...)...)
	merge.Dir = root
	out, err := merge.CombinedOutput()
	require.NoError(t, err, "mergearchive: %s", out)

	bin := testutil.Binary(t)
	sock := filepath.Join(dir, "containerd.sock")
	env := []string{"WREN_DATA_DIR=" + filepath.Join(dir, "wren")}
	// A containerd of its own: root, state and socket in the test's directory.
	config := filepath.Join(dir, "config.toml")
	require.NoError(t, os.WriteFile(config, []byte("version = 3\n"), 0o644))
	cd := exec.Command(bin, "containerd", "--config", config, "--address", sock,
		"--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"))
	cd.Env = append(os.Environ(), env...)
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	require.NoError(t, err)
	cd.Stdout, cd.Stderr = logf, logf
	require.NoError(t, cd.Start())
	t.Cleanup(func() {
		_ = cd.Process.Kill()
		_ = cd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("containerd log:\n%s", b)
		}
	})
	ctr := func(args ...string) string {
		c := exec.Command(bin, append([]string{"ctr", "--address", sock}, args...)...)
		c.Env = append(os.Environ(), env...)
		b, err := c.CombinedOutput()
		require.NoError(t, err, "ctr %v: %s", args, b)
		return string(b)
	}
	deadline := time.Now().Add(time.Minute)
	for _, err := os.Stat(sock); err != nil; _, err = os.Stat(sock) {
		require.True(t, time.Now().Before(deadline), "containerd did not listen on %s", sock)
		time.Sleep(100 * time.Millisecond)
	}

	ctr("images", "import", "--all-platforms", all)
	list := ctr("images", "ls")
	// check judges each image for this machine's platform.
	check := ctr("images", "check")
	for _, name := range []string{"coredns", "pause", "metrics-server", "local-path-helper"} {
		line := ""
		for _, l := range strings.Split(list, "\n") {
			if strings.Contains(l, "/"+name+":") {
				line = l
			}
		}
		require.NotEmpty(t, line, "%s imported:\n%s", name, list)
		assert.Contains(t, line, "application/vnd.oci.image.index.v1+json", name)
		for _, p := range []string{"linux/amd64", "linux/arm64", "linux/arm/v7"} {
			assert.Contains(t, line, p, name)
		}
		ref := strings.Fields(line)[0]
		status := ""
		for _, l := range strings.Split(check, "\n") {
			if f := strings.Fields(l); len(f) > 3 && f[0] == ref {
				status = f[3]
			}
		}
		assert.Equal(t, "complete", status, "%s for this machine:\n%s", ref, check)
	}
}
