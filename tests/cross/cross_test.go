// SPDX-License-Identifier: Apache-2.0

//go:build cross

// Package cross smoke-tests the arm64 and armv7 builds (make release's
// build/<arch>/wren) on this amd64 machine under qemu-user: the launcher
// extracts its release, the payload's programs run, and a control plane
// answers /readyz and serves kubectl. scripts/test.sh cross builds them.
package cross

import (
	"bytes"
	"context"
	"fmt"
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

// arches are the builds under test: name, the Go architecture `wren
// --version` reports and the qemu-user binfmt entry that runs them.
var arches = []struct{ name, goarch, qemu string }{
	{"arm64", "linux/arm64", "aarch64"},
	{"armv7", "linux/arm", "arm"},
}

func TestCrossBuilds(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("registering qemu-user with binfmt_misc needs root")
	}
	root := testutil.RepoRoot()
	for _, a := range arches {
		t.Run(a.name, func(t *testing.T) {
			bin := filepath.Join(root, "build", a.name, "wren")
			if _, err := os.Stat(bin); err != nil {
				t.Fatalf("%s: build it with WREN_ARCH=%s scripts/build.sh (scripts/test.sh cross does)", bin, a.name)
			}
			registerQemu(t, a.qemu)
			smoke(t, bin, a.goarch)
		})
	}
}

func smoke(t *testing.T, bin, goarch string) {
	dir := t.TempDir()
	env := []string{"WREN_DATA_DIR=" + dir}

	t0 := time.Now()
	out := run(t, env, bin, "--version")
	assert.Contains(t, out, "wren version v")
	assert.Contains(t, out, goarch)
	t.Logf("launcher: release extracted and wren --version answered in %s", time.Since(t0).Round(10*time.Millisecond))
	t0 = time.Now()
	run(t, env, bin, "--version")
	t.Logf("wren --version, release in place: %s", time.Since(t0).Round(10*time.Millisecond))

	releases, _ := filepath.Glob(filepath.Join(dir, "data", "[0-9a-f]*", "bin"))
	require.Len(t, releases, 1)
	assert.Contains(t, run(t, nil, filepath.Join(releases[0], "runc"), "--version"), "runc version")
	assert.Contains(t, run(t, nil, filepath.Join(releases[0], "containerd-shim-runc-v2"), "-v"), "containerd-shim-runc-v2")
	for _, plugin := range []string{"bridge", "host-local", "loopback", "portmap", "bandwidth", "firewall"} {
		// Run without CNI_COMMAND, a CNI plugin prints its version and exits 1.
		out, _ := output(filepath.Join(releases[0], plugin))
		assert.Contains(t, out, "CNI "+plugin+" plugin", plugin)
	}

	// A control plane alone, as on a board that serves only the API.
	s := testutil.NewServer(t)
	s.Bin = bin
	t0 = time.Now()
	s.Start()
	s.WaitReady(5 * time.Minute)
	t.Logf("control plane (--disable-agent): exec → ready and /readyz ok in %s", time.Since(t0).Round(100*time.Millisecond))
	kubectl := func(args ...string) string {
		return run(t, []string{"KUBECONFIG=" + s.Kubeconfig, "WREN_DATA_DIR=" + s.DataDir}, bin, append([]string{"kubectl"}, args...)...)
	}
	t0 = time.Now()
	kubectl("create", "configmap", "hello", "--from-literal=arch="+goarch)
	assert.Equal(t, goarch, kubectl("get", "configmap", "hello", "-o", "jsonpath={.data.arch}"))
	t.Logf("kubectl create and get (the bundled kubectl, emulated too): %s", time.Since(t0).Round(100*time.Millisecond))
	s.Stop()
}

// run runs a program of the build (emulated through binfmt_misc) and returns
// its combined output; it must succeed.
func run(t *testing.T, env []string, prog string, args ...string) string {
	t.Helper()
	out, err := outputEnv(env, prog, args...)
	require.NoError(t, err, "%s %v: %s", prog, args, out)
	return out
}

func output(prog string, args ...string) (string, error) { return outputEnv(nil, prog, args...) }

func outputEnv(env []string, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// registerQemu makes the kernel run the architecture's programs with
// Debian's qemu-user-static (the F flag opens the emulator now, so it works
// inside other mount namespaces too), unless an entry is already there, and
// removes what it added at the end.
func registerQemu(t *testing.T, name string) {
	t.Helper()
	const binfmt = "/proc/sys/fs/binfmt_misc"
	if _, err := os.Stat(filepath.Join(binfmt, "register")); err != nil {
		out, err := exec.Command("mount", "-t", "binfmt_misc", "binfmt_misc", binfmt).CombinedOutput()
		require.NoError(t, err, "mount binfmt_misc: %s", out)
		t.Cleanup(func() { _ = exec.Command("umount", binfmt).Run() })
	}
	entry := filepath.Join(binfmt, "qemu-"+name)
	if _, err := os.Stat(entry); err == nil {
		return // the host has it already
	}
	conf, err := os.ReadFile(filepath.Join("/usr/lib/binfmt.d", "qemu-"+name+".conf"))
	require.NoError(t, err, "qemu-user-static is missing: scripts/deps.sh cross")
	require.NoError(t, os.WriteFile(filepath.Join(binfmt, "register"), bytes.TrimSpace(conf), 0), "register %s", name)
	t.Cleanup(func() {
		if err := os.WriteFile(entry, []byte("-1"), 0); err != nil {
			t.Errorf("unregister %s: %v", entry, err)
		}
	})
	fmt.Fprintf(os.Stderr, "registered %s with binfmt_misc for this test\n", entry)
}
