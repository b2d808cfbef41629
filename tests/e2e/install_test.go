//go:build e2e

// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// fakeInit stands in for systemd's systemctl and openrc's openrc-run and
// rc-update in a container without an init system: it records each call in
// /var/log/fake-init.log and keeps "running" services as /run/fake-active-*.
const fakeInit = `#!/bin/sh
echo "$(basename "$0") $*" >>/var/log/fake-init.log
case "$(basename "$0")" in
systemctl)
    case "$1" in
    is-active) [ -f "/run/fake-active-$3" ]; exit ;;
    restart | start) touch "/run/fake-active-${2%.service}" ;;
    stop) rm -f "/run/fake-active-${2%.service}" ;;
    list-units) for f in /run/fake-active-*; do [ -f "$f" ] && echo "${f#/run/fake-active-}.service loaded active running"; done ;;
    esac ;;
openrc-run)
    svc=$(basename "$1")
    case "$2" in
    status) [ -f "/run/fake-active-$svc" ]; exit ;;
    restart | start) touch "/run/fake-active-$svc" ;;
    stop) rm -f "/run/fake-active-$svc" ;;
    esac ;;
esac
exit 0
`

// installBox is a container from the node rootfs (Debian, no wren) with the
// release mounted at /release, for running install.sh.
type installBox struct {
	t         *testing.T
	container string
}

func newInstallBox(t *testing.T, id, name, base, release, fakes string) *installBox {
	b := &installBox{t: t, container: "wren-e2e-" + id + "-" + name}
	mustDocker(t, time.Minute, "run", "-d", "--name", b.container, "--label", label+"="+id, "--network", "none",
		"--cap-add", "NET_ADMIN", "--cap-add", "SYS_ADMIN",
		"-v", release+":/release:ro", "-v", fakes+":/fakes:ro",
		"-v", filepath.Join(testutil.RepoRoot(), "scripts", "install.sh")+":/raw-install.sh:ro",
		base, "sleep", "infinity")
	return b
}

// sh runs a shell command in the box.
func (b *installBox) sh(cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return dockerCombined(ctx, "exec", b.container, "sh", "-c", cmd)
}

func (b *installBox) mustSh(cmd string) string {
	b.t.Helper()
	out, err := b.sh(cmd)
	require.NoError(b.t, err, "%s:\n%s", cmd, out)
	return strings.TrimSpace(out)
}

// install runs script (the release's install.sh by default) with env.
func (b *installBox) install(env string, args ...string) (string, error) {
	return b.sh(env + " sh /release/install.sh " + strings.Join(args, " "))
}

// calls counts the fake init's records equal to call.
func (b *installBox) calls(call string) int {
	n := 0
	for _, l := range strings.Split(b.mustSh("cat /var/log/fake-init.log 2>/dev/null || true"), "\n") {
		if l == call {
			n++
		}
	}
	return n
}

// snapshot lists what uninstall must restore: files (outside /proc, /sys,
// /dev, /tmp and the fake init's records), mounts, links and firewall rules.
func (b *installBox) snapshot() string {
	return b.mustSh(`find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /release -o -path /fakes \) -prune -o -print |
		grep -v -e '^/var/log/fake-init.log$' -e '^/run/fake-active-' | sort; cat /proc/mounts | sort; ip -o link; iptables-save | grep -v '^#'; true`)
}

// TestInstall runs the installer of a release made by scripts/release.sh
// (signed with a key made here) from a file:// mirror, as an air-gapped user
// would, in fresh Debian roots: the systemd and openrc paths, idempotent
// re-runs, tampered downloads and an unsigned installer refused, and
// uninstall leaving no trace.
func TestInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root and docker")
	}
	removeLabelled(t)
	t.Cleanup(func() { removeLabelled(t) })
	root := testutil.RepoRoot()
	id := randomID()
	base := lastLine(mustRun(t, 15*time.Minute, root, "scripts/node-rootfs.sh"))
	dir := t.TempDir()
	key := filepath.Join(dir, "release.key")
	mustRun(t, time.Minute, root, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
	release := filepath.Join(dir, "release")
	mustRun(t, 10*time.Minute, root, "env", "WREN_SIGNING_KEY="+key, "WREN_RELEASE_SKIP_BUILD=true", "WREN_RELEASE_ARCHES="+releaseArch(),
		"WREN_RELEASE_DIR="+release, "scripts/release.sh")
	version, err := os.ReadFile(filepath.Join(release, "stable.txt"))
	require.NoError(t, err)
	v := strings.TrimSpace(string(version))
	sums := readSums(t, filepath.Join(release, v, "sha256sum.txt"))
	require.Contains(t, sums, "wren-amd64")
	require.Contains(t, sums, "wren-airgap-images-amd64.tar.zst")
	fakes := filepath.Join(dir, "fakes")
	require.NoError(t, os.MkdirAll(fakes, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(fakes, "fake-init"), []byte(fakeInit), 0o755))
	mirror := "INSTALL_WREN_DOWNLOAD_URL=file:///release"

	t.Run("systemd", func(t *testing.T) {
		b := newInstallBox(t, id, "systemd", base, release, fakes)
		// What a systemd host has: the unit directory and /run/systemd/system.
		b.mustSh("cp /fakes/fake-init /usr/local/bin/systemctl && mkdir -p /run/systemd/system /etc/systemd/system")

		// Refused: an installer without a release key, tampered downloads, a bad URL.
		out, err := b.sh(mirror + " sh /raw-install.sh")
		require.Error(t, err, out)
		assert.Contains(t, out, "carries no release key")
		b.mustSh("cp -r /release /tmp/bad && printf x >>'/tmp/bad/" + v + "/wren-amd64'")
		out, err = b.install("INSTALL_WREN_DOWNLOAD_URL=file:///tmp/bad INSTALL_WREN_BIN_DIR=/opt/t1")
		require.Error(t, err, out)
		assert.Contains(t, out, "does not match the signed checksum")
		b.mustSh("cd '/tmp/bad/" + v + "' && sha256sum wren-* >sha256sum.txt")
		out, err = b.install("INSTALL_WREN_DOWNLOAD_URL=file:///tmp/bad INSTALL_WREN_BIN_DIR=/opt/t1")
		require.Error(t, err, out)
		assert.Contains(t, out, "its signature does not match this installer's release key")
		out, err = b.install(mirror + " WREN_URL=http://10.0.0.1:6443 WREN_TOKEN=x")
		require.Error(t, err, out)
		assert.Contains(t, out, "WREN_URL http://10.0.0.1:6443: must start with https://")
		b.mustSh("test ! -e /opt/t1/wren && test ! -e /usr/local/bin/wren") // refused runs install nothing
		b.mustSh("rm -rf /tmp/bad")
		before := b.snapshot()

		// A server, then the same again, then with a changed flag.
		b.mustSh("env " + mirror + " INSTALL_WREN_EXEC='server --cluster-cidr 10.50.0.0/16' WREN_TOKEN=secret1 sh /release/install.sh")
		assert.Equal(t, sums["wren-amd64"], strings.Fields(b.mustSh("sha256sum /usr/local/bin/wren"))[0])
		assert.Contains(t, b.mustSh("/usr/local/bin/wren --version"), "v0.1.0")
		for _, l := range []string{"kubectl", "crictl", "ctr"} {
			assert.Equal(t, "/usr/local/bin/wren", b.mustSh("readlink /usr/local/bin/"+l), l)
		}
		unit := b.mustSh("cat /etc/systemd/system/wren.service")
		for _, want := range []string{"Type=notify", "Delegate=yes", "KillMode=process", "Restart=always",
			"EnvironmentFile=-/etc/systemd/system/wren.service.env", "ExecStart=/usr/local/bin/wren", "server",
			"'--cluster-cidr'", "'10.50.0.0/16'"} {
			assert.Contains(t, unit, want)
		}
		assert.Equal(t, `WREN_TOKEN="secret1"`, b.mustSh("cat /etc/systemd/system/wren.service.env"))
		assert.Equal(t, "600", b.mustSh("stat -c %a /etc/systemd/system/wren.service.env"))
		b.mustSh("test -x /usr/local/bin/wren-killall.sh && test -x /usr/local/bin/wren-uninstall.sh")
		assert.Equal(t, 1, b.calls("systemctl enable wren"))
		assert.Equal(t, 1, b.calls("systemctl restart wren"))

		out = b.mustSh("env " + mirror + " INSTALL_WREN_EXEC='server --cluster-cidr 10.50.0.0/16' WREN_TOKEN=secret1 sh /release/install.sh")
		assert.Contains(t, out, "nothing changed")
		assert.Equal(t, 1, b.calls("systemctl restart wren"), "the same settings restart nothing")
		b.mustSh("env " + mirror + " INSTALL_WREN_EXEC='server --cluster-cidr 10.51.0.0/16' WREN_TOKEN=secret1 sh /release/install.sh")
		assert.Equal(t, 2, b.calls("systemctl restart wren"), "new settings restart once")
		assert.Contains(t, b.mustSh("cat /etc/systemd/system/wren.service"), "'10.51.0.0/16'")

		// An agent beside it: its own unit, environment and uninstaller.
		b.mustSh("env " + mirror + " WREN_URL=https://10.0.0.1:6443 WREN_TOKEN=t0k sh /release/install.sh")
		assert.Contains(t, b.mustSh("cat /etc/systemd/system/wren-agent.service"), "\n    agent")
		env := b.mustSh("cat /etc/systemd/system/wren-agent.service.env")
		assert.Contains(t, env, `WREN_URL="https://10.0.0.1:6443"`)
		assert.Contains(t, env, `WREN_TOKEN="t0k"`)
		b.mustSh("/usr/local/bin/wren-agent-uninstall.sh >/dev/null 2>&1")
		b.mustSh("test -x /usr/local/bin/wren") // the server still uses it
		b.mustSh("/usr/local/bin/wren-uninstall.sh >/dev/null 2>&1")
		assert.Equal(t, before, b.snapshot(), "uninstall leaves no trace")
	})

	t.Run("openrc", func(t *testing.T) {
		b := newInstallBox(t, id, "openrc", base, release, fakes)
		b.mustSh("cp /fakes/fake-init /sbin/openrc-run && cp /fakes/fake-init /usr/local/bin/rc-update")
		before := b.snapshot()
		b.mustSh("env " + mirror + " INSTALL_WREN_SYMLINK=skip sh /release/install.sh server --disable-agent")
		svc := b.mustSh("cat /etc/init.d/wren")
		assert.True(t, strings.HasPrefix(svc, "#!/sbin/openrc-run"))
		assert.Contains(t, svc, `command="/usr/local/bin/wren"`)
		assert.Contains(t, svc, "'--disable-agent'")
		assert.Equal(t, 1, b.calls("rc-update add wren default"))
		assert.Equal(t, 1, b.calls("openrc-run /etc/init.d/wren restart"))
		_, err := b.sh("test -e /usr/local/bin/kubectl")
		assert.Error(t, err, "INSTALL_WREN_SYMLINK=skip links nothing")
		b.mustSh("env " + mirror + " INSTALL_WREN_SYMLINK=skip sh /release/install.sh server --disable-agent")
		assert.Equal(t, 1, b.calls("openrc-run /etc/init.d/wren restart"), "the same settings restart nothing")
		b.mustSh("/usr/local/bin/wren-uninstall.sh >/dev/null 2>&1")
		assert.Equal(t, before, b.snapshot(), "uninstall leaves no trace")
	})
}

// readSums parses a sha256sum file into file → hash.
func readSums(t *testing.T, path string) map[string]string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) == 2 {
			out[strings.TrimPrefix(fs[1], "*")] = fs[0]
		}
	}
	return out
}

// releaseArch names this machine's architecture as releases do.
func releaseArch() string {
	if runtime.GOARCH == "arm" {
		return "armv7"
	}
	return runtime.GOARCH
}
