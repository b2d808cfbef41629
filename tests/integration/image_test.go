//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

func docker(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestDockerImage builds the Dockerfile from bin/wren with the local engine
// (nothing pulled) and runs a control plane in a container.
func TestDockerImage(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker not installed")
	}
	if out, err := docker(t, "info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Skipf("docker engine not running: %s", out)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	// The base is built from Debian's packages (nothing pulled) and cached.
	rootfs := exec.Command(filepath.Join(root, "scripts", "node-rootfs.sh"))
	rootfs.Stderr = os.Stderr
	b, err := rootfs.Output()
	require.NoError(t, err, "scripts/node-rootfs.sh")
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	base := lines[len(lines)-1]
	tag := fmt.Sprintf("wren-test:%d", os.Getpid())
	out, err := docker(t, "build", "-q", "--build-arg", "BASE="+base, "-t", tag, root)
	require.NoError(t, err, out)
	t.Cleanup(func() { _, _ = docker(t, "rmi", "-f", tag) })

	out, err = docker(t, "run", "--rm", tag, "--version")
	require.NoError(t, err, out)
	assert.Contains(t, out, "kubernetes v1.36.3")

	name := fmt.Sprintf("wren-test-%d", os.Getpid())
	// A control plane needs none of the capabilities a node container is
	// given (the e2e tests run nodes): without them, a node fails at once.
	out, err = docker(t, "run", "-d", "--name", name, tag, "server", "--disable-agent")
	require.NoError(t, err, out)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := docker(t, "logs", "--tail", "40", name)
			t.Logf("container log:\n%s", logs)
		}
		_, _ = docker(t, "rm", "-f", name)
	})
	testutil.Eventually(t, 2*time.Minute, time.Second, "API ready in the container", func() error {
		out, err := docker(t, "exec", name, "/bin/wren", "kubectl", "get", "--raw", "/readyz")
		if err != nil || out != "ok" {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	out, err = docker(t, "stop", "-t", "60", name)
	require.NoError(t, err, out)
	code, _ := docker(t, "inspect", "-f", "{{.State.ExitCode}}", name)
	assert.Equal(t, "0", code, "SIGTERM in the container is a clean shutdown")
}
