// SPDX-License-Identifier: Apache-2.0

package node

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/wren-k8s/wren/pkg/registries"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got))
}

func TestContainerdConfig(t *testing.T) {
	t.Parallel()
	for name, host := range map[string]HostInfo{
		"containerd-v1-restricted.toml": {CgroupV2: false, CanLowerOOMScore: false},
		"containerd-v2.toml":            {CgroupV2: true, CanLowerOOMScore: true},
	} {
		cfg := ContainerdConfig{
			Root: "/var/lib/wren/agent/containerd", State: "/run/wren/containerd",
			Socket: "/run/wren/containerd/containerd.sock", BinDir: "/var/lib/wren/data/current/bin",
			CNIConfDir: "/var/lib/wren/agent/etc/cni/net.d", PauseImage: "registry.k8s.io/pause:3.10.2", Host: host,
			RegistryDir: "/var/lib/wren/agent/etc/containerd/certs.d",
		}
		if host.CgroupV2 { // and logins from a registries.yaml
			r, _, err := registries.Parse([]byte(`configs:
  docker.io: {auth: {username: me, password: "p\"w"}}
  ghcr.io: {auth: {identity_token: tok}}
`))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Registries = r
		}
		golden(t, name, []byte(RenderContainerdConfig(cfg)))
	}
}

func TestKubeletConfig(t *testing.T) {
	t.Parallel()
	cfg := KubeletConfig{
		ClientCAFile: "/var/lib/wren/agent/tls/client-ca.crt", ServingCert: "/tls/serving.crt", ServingKey: "/tls/serving.key",
		RuntimeSocket: "/run/wren/containerd/containerd.sock", ClusterDNS: "10.43.0.10", ClusterDomain: "cluster.local",
		ResolvConf: "/etc/resolv.conf", StaticPodDir: "/var/lib/wren/agent/pod-manifests",
		Taints: []corev1.Taint{{Key: "dedicated", Value: "edge", Effect: corev1.TaintEffectNoSchedule}},
	}
	for name, host := range map[string]HostInfo{
		"kubelet-v1-restricted.yaml": {CgroupV2: false, CanLowerOOMScore: false},
		"kubelet-v2.yaml":            {CgroupV2: true, CanLowerOOMScore: true},
	} {
		cfg.Host = host
		b, err := RenderKubeletConfig(cfg)
		require.NoError(t, err)
		golden(t, name, b)
	}
}

func TestCNIConfig(t *testing.T) {
	t.Parallel()
	b, err := RenderCNIConfig("10.42.3.0/24", "10.42.0.0/16", 1450, "/var/lib/wren/agent/cni")
	require.NoError(t, err)
	golden(t, "10-flannel.conflist", b)
}

func TestTarballsListsImageFilesOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, n := range []string{"b.tar", "a.tar.gz", "c.tar.zst", "d.tgz", "notes.txt", ".hidden.tar", "e.tzst"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.tar"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(dir, "b.tar"), filepath.Join(dir, "link.tar")))
	var names []string
	for _, p := range tarballs(dir) {
		names = append(names, filepath.Base(p))
	}
	assert.Equal(t, []string{"a.tar.gz", "b.tar", "c.tar.zst", "d.tgz", "e.tzst", "link.tar"}, names)
}

func TestUnescapeMount(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "/var/lib/my dir", unescapeMount(`/var/lib/my\040dir`))
	assert.Equal(t, "/plain", unescapeMount("/plain"))
}
