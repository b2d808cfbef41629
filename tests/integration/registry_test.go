//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// TestPrivateRegistry runs a node with a registries.yaml against two real
// registries on loopback: one with TLS (its own CA) and a login, one plain
// HTTP. The mirrored names are loopback addresses on port 1, so when a
// mirror fails, containerd's fall-back to the registry itself is refused at
// once and nothing leaves the machine.
func TestPrivateRegistry(t *testing.T) {
	secure := testutil.StartRegistry(t, testutil.RegistryOptions{TLS: true, User: "wren", Password: "s3cret"})
	plain := testutil.StartRegistry(t, testutil.RegistryOptions{})
	_, securePort, _ := net.SplitHostPort(secure.Addr)
	file := filepath.Join(t.TempDir(), "registries.yaml")
	require.NoError(t, os.WriteFile(file, []byte(fmt.Sprintf(`
mirrors:
  "127.0.0.2:1":
    endpoint: ["https://%[1]s"]
  "127.0.0.3:1":
    endpoint: ["https://localhost:%[2]s"]
  "127.0.0.4:1":
    endpoint: ["http://%[3]s"]
  "127.0.0.5:1":
    endpoint: ["https://%[3]s"]
configs:
  "%[1]s":
    auth: {username: wren, password: s3cret}
    tls: {ca_file: %[4]s}
  "localhost:%[2]s":
    auth: {username: wren, password: wrong}
    tls: {ca_file: %[4]s}
`, secure.Addr, securePort, plain.Addr, secure.CAFile)), 0o600))
	s := testutil.StartNode(t, "--private-registry", file)

	// Publish agnhost in both registries from the node's own containerd.
	for _, push := range [][]string{
		{"--local", "--user", "wren:s3cret", "--tlscacert", secure.CAFile, secure.Addr + "/wren/agnhost:v1"},
		{"--local", "--plain-http", plain.Addr + "/wren/agnhost:v1"},
	} {
		ref := push[len(push)-1]
		out, err := s.Ctr("images", "tag", testutil.AgnhostImage, ref)
		require.NoError(t, err, out)
		out, err = s.Ctr(append([]string{"images", "push"}, push...)...)
		require.NoError(t, err, out)
	}

	t.Run("registries.yaml is rendered for containerd", func(t *testing.T) {
		hosts, err := os.ReadFile(filepath.Join(s.DataDir, "agent", "etc", "containerd", "certs.d", "127.0.0.2:1", "hosts.toml"))
		require.NoError(t, err)
		assert.Contains(t, string(hosts), `[host."https://`+secure.Addr+`/v2"]`)
		assert.Contains(t, string(hosts), `ca = ["`+secure.CAFile+`"]`)
		config, err := os.ReadFile(filepath.Join(s.DataDir, "agent", "etc", "containerd", "config.toml"))
		require.NoError(t, err)
		assert.Contains(t, string(config), `registry.configs."`+secure.Addr+`".auth]`)
	})

	t.Run("a pod pulls through a mirror with a login and the registry's CA", func(t *testing.T) {
		s.MustKubectl("run", "mirrored", "--image=127.0.0.2:1/wren/agnhost:v1", "--image-pull-policy=Always", "--", "pause")
		s.MustKubectl("wait", "--for=condition=Ready", "pod/mirrored", "--timeout=120s")
		images, err := s.Crictl("images", "-q", "127.0.0.2:1/wren/agnhost:v1")
		require.NoError(t, err)
		assert.NotEmpty(t, strings.TrimSpace(images), "stored under the name the pod asked for")
	})

	t.Run("wrong credentials give a clear event", func(t *testing.T) {
		s.MustKubectl("run", "badlogin", "--image=127.0.0.3:1/wren/agnhost:v1", "--image-pull-policy=Always", "--", "pause")
		testutil.Eventually(t, 90*time.Second, time.Second, "a pull failure event", func() error {
			out := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=badlogin,reason=Failed", "-o", "jsonpath={.items[*].message}")
			if !strings.Contains(out, "401 Unauthorized") {
				return fmt.Errorf("events: %q", out)
			}
			return nil
		})
	})

	t.Run("plain HTTP only where an endpoint declares it", func(t *testing.T) {
		out, err := s.Crictl("pull", "127.0.0.4:1/wren/agnhost:v1")
		require.NoError(t, err, out)
		out, err = s.Crictl("pull", "127.0.0.5:1/wren/agnhost:v1")
		require.Error(t, err, "an https:// endpoint is not tried over plain HTTP: %s", out)
		assert.Contains(t, err.Error(), "server gave HTTP response to HTTPS client")
	})
}

func TestPrivateRegistryBadFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "registries.yaml")
	require.NoError(t, os.WriteFile(file, []byte("mirrors:\n  docker.io:\n    endpoint: [\"ftp://mirror:21\"]\n"), 0o600))
	s := testutil.NewNode(t, "--private-registry", file)
	expectFailure(t, s, `--private-registry `+file+`: mirrors."docker.io".endpoint "ftp://mirror:21": scheme "ftp": want http or https`)
}
