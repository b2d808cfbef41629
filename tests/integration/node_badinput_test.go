//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

func TestNodeIPNotOnHost(t *testing.T) {
	s := testutil.NewNode(t, "--node-ip", "203.0.113.99")
	expectFailure(t, s, "--node-ip 203.0.113.99: not an address of this host")
}

func TestKubeletPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "0.0.0.0:10250")
	require.NoError(t, err)
	defer l.Close()
	s := testutil.NewNode(t)
	expectFailure(t, s, "kubelet port 0.0.0.0:10250: already in use")
}

// TestMissingHostFeatures hides iptables (and the other tools) from wren: the
// node refuses to start and names what is missing, and check-config agrees.
func TestMissingHostFeatures(t *testing.T) {
	empty := t.TempDir()
	s := testutil.NewNode(t)
	expectFailure(t, s, "iptables command", "PATH="+empty)

	res := testutil.RunWren(t, time.Minute, []string{"PATH=" + empty}, "check-config")
	assert.NotZero(t, res.ExitCode)
	assert.Regexp(t, `MISSING\s+iptables command`, res.Stdout)
	assert.Regexp(t, `ok\s+overlay filesystem`, res.Stdout)

	ok := testutil.RunWren(t, time.Minute, nil, "check-config")
	assert.Zero(t, ok.ExitCode, ok.Stdout)
	assert.NotContains(t, ok.Stdout, "MISSING")
}

func TestCorruptPayloadIsRefused(t *testing.T) {
	// A copy of wren whose payload has a flipped byte.
	b, err := os.ReadFile(testutil.Binary(t))
	require.NoError(t, err)
	b[len(b)-1024*1024] ^= 0xff
	bad := t.TempDir() + "/wren"
	require.NoError(t, os.WriteFile(bad, b, 0o755))
	s := testutil.NewNode(t)
	t.Setenv("WREN_BIN", bad) // undone before the node's cleanup, which needs a good binary
	res := testutil.RunWren(t, 3*time.Minute, nil, s.CommandArgs()...)
	require.NotZero(t, res.ExitCode)
	line := lastLine(res.Stderr)
	assert.Contains(t, line, "payload in "+bad+" is corrupt")
	extracted, _ := filepath.Glob(filepath.Join(s.DataDir, "data", "[0-9a-f]*"))
	assert.Empty(t, extracted, "nothing of the corrupt release is left in place")
}

// A launcher killed while it extracts the release leaves nothing half-done
// in place, and the next start extracts it again and runs.
func TestKilledWhileExtracting(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "WREN_DATA_DIR="+dir)
	for _, delay := range []time.Duration{20 * time.Millisecond, 200 * time.Millisecond, 600 * time.Millisecond} {
		cmd := exec.Command(testutil.Binary(t), "--version")
		cmd.Env = env
		require.NoError(t, cmd.Start())
		time.Sleep(delay)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		releases, _ := filepath.Glob(filepath.Join(dir, "data", "[0-9a-f]*"))
		for _, r := range releases {
			assert.FileExists(t, filepath.Join(r, ".manifest"), "a release in place is complete (killed after %s)", delay)
		}
	}
	res := testutil.RunWren(t, time.Minute, []string{"WREN_DATA_DIR=" + dir}, "--version")
	require.Zero(t, res.ExitCode, res.Stderr)
	assert.Contains(t, res.Stdout, "wren version")
	leftovers, _ := filepath.Glob(filepath.Join(dir, "data", ".extract-*"))
	assert.Empty(t, leftovers, "interrupted extractions are cleared")
}
