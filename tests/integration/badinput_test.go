//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// lastLine is the final line of stderr: where wren reports why it stopped.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// expectFailure runs `wren server` with the test defaults plus args and
// checks it exits non-zero with a one-line "wren: ..." error containing want.
func expectFailure(t *testing.T, s *testutil.Server, want string, extraEnv ...string) {
	t.Helper()
	res := testutil.RunWren(t, 3*time.Minute, extraEnv, s.CommandArgs()...)
	require.NotZero(t, res.ExitCode, "wren should fail; stderr:\n%s", res.Stderr)
	line := lastLine(res.Stderr)
	assert.True(t, strings.HasPrefix(line, "wren: "), "error line %q", line)
	assert.Contains(t, line, want)
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"invalid CIDR", []string{"--cluster-cidr", "10.42.0.0/33"}, `invalid argument "10.42.0.0/33" for "--cluster-cidr" flag: invalid CIDR`},
		{"overlapping CIDRs", []string{"--service-cidr", "10.42.0.0/24"}, "--cluster-cidr 10.42.0.0/16 overlaps --service-cidr 10.42.0.0/24"},
		{"cluster DNS outside service CIDR", []string{"--cluster-dns", "10.99.0.10"}, "--cluster-dns 10.99.0.10: not inside --service-cidr"},
		{"unknown flag", []string{"--no-such-flag"}, "unknown flag: --no-such-flag"},
		{"unknown datastore scheme", []string{"--datastore-endpoint", "oracle://scott:tiger@db/orcl"}, `unknown scheme "oracle"`},
		{"bad upstream flag", []string{"--kube-apiserver-arg", "no-such-apiserver-flag=1"}, "kube-apiserver flags: unknown flag: --no-such-apiserver-flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testutil.NewServer(t, tc.args...)
			expectFailure(t, s, tc.want)
			_, err := os.Stat(filepath.Join(s.DataDir, "server"))
			assert.True(t, os.IsNotExist(err), "a rejected configuration writes nothing")
		})
	}
}

func TestBadInputPasswordIsNotPrinted(t *testing.T) {
	s := testutil.NewServer(t, "--datastore-endpoint", "oracle://scott:tiger@db/orcl")
	res := testutil.RunWren(t, time.Minute, nil, s.CommandArgs()...)
	assert.NotContains(t, res.Stderr, "tiger")
}

func TestBadConfigFiles(t *testing.T) {
	cases := []struct{ name, content, want string }{
		{"malformed", "cluster-cidr: [unclosed\n", "config file"},
		{"unknown key", "cluster-cidr: 10.42.0.0/16\nno-such-key: 1\n", `line 2: unknown key "no-such-key"`},
		{"bad value", "cluster-cidr: 10.42.0.0/99\n", `key "cluster-cidr": invalid CIDR`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testutil.NewServer(t)
			cfg := filepath.Join(s.Dir, "config.yaml")
			require.NoError(t, os.WriteFile(cfg, []byte(tc.content), 0o600))
			s.Args = []string{"--config", cfg}
			expectFailure(t, s, tc.want)
			expectFailure(t, s, cfg) // the message names the file
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		s := testutil.NewServer(t)
		s.Args = []string{"--config", s.Dir} // a directory
		expectFailure(t, s, "config file "+s.Dir)
	})
	t.Run("missing when named", func(t *testing.T) {
		s := testutil.NewServer(t)
		expectFailure(t, s, "config file /nonexistent/wren.yaml", "WREN_CONFIG_FILE=/nonexistent/wren.yaml")
	})
}

func TestConfigFileAndEnvPrecedence(t *testing.T) {
	s := testutil.NewServer(t)
	cfg := filepath.Join(s.Dir, "config.yaml")
	// The file asks for a service CIDR that overlaps; the env var overrides
	// it with a good one, so the server starts and uses the env's value.
	require.NoError(t, os.WriteFile(cfg, []byte("service-cidr: 10.42.0.0/24\ncluster-domain: file.local\nwrite-kubeconfig-mode: 0640\n"), 0o600))
	s.Args = []string{"--config", cfg, "--cluster-domain", "flag.local"}
	t.Setenv("WREN_SERVICE_CIDR", "10.77.0.0/16")
	s.Start()
	s.WaitReady(3 * time.Minute)
	out := s.MustKubectl("get", "service", "kubernetes", "-o", "jsonpath={.spec.clusterIP}")
	assert.Equal(t, "10.77.0.1", out, "env beats file")
	fi, err := os.Stat(s.Kubeconfig)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "file value used when no flag or env")
	issuer := s.MustKubectl("get", "--raw", "/.well-known/openid-configuration")
	assert.Contains(t, issuer, "kubernetes.default.svc.flag.local", "flag beats file")
}

func TestPortInUse(t *testing.T) {
	s := testutil.NewServer(t)
	l, err := net.Listen("tcp", "0.0.0.0:"+strconv.Itoa(s.Port))
	require.NoError(t, err)
	defer l.Close()
	expectFailure(t, s, "--https-listen-port "+strconv.Itoa(s.Port)+": address 0.0.0.0:"+strconv.Itoa(s.Port)+" already in use")
}

func TestSecondServerOnSameDataDir(t *testing.T) {
	s := testutil.StartServer(t)
	second := *s
	second.Port = testutil.FreePort(t)
	res := testutil.RunWren(t, time.Minute, nil, second.CommandArgs()...)
	require.NotZero(t, res.ExitCode)
	assert.Contains(t, lastLine(res.Stderr), "in use by another wren")
	s.MustKubectl("get", "--raw", "/readyz") // the first one is unharmed
}

func TestUnreachableDatastore(t *testing.T) {
	port := testutil.FreePort(t) // nothing listens there
	s := testutil.NewServer(t, "--datastore-endpoint", "postgres://wren:pw@127.0.0.1:"+strconv.Itoa(port)+"/wren?sslmode=disable",
		"--datastore-connect-timeout", "5s")
	res := testutil.RunWren(t, 2*time.Minute, nil, s.CommandArgs()...)
	require.NotZero(t, res.ExitCode)
	line := lastLine(res.Stderr)
	assert.Contains(t, line, "unreachable after 5s")
	assert.Contains(t, line, "127.0.0.1:"+strconv.Itoa(port))
	assert.Contains(t, res.Stderr, "Failed to ping database", "each retry is visible in the log")
	assert.NotContains(t, res.Stderr, ":pw@")
}

func TestTokenMismatch(t *testing.T) {
	s := testutil.StartServer(t, "--token", "first-secret")
	s.Stop()
	tokenBefore, err := os.ReadFile(filepath.Join(s.DataDir, "server", "token"))
	require.NoError(t, err)

	s.Args = []string{"--token", "another-secret"}
	expectFailure(t, s, "token: does not match the token this server was created with")

	// A full token minted by another cluster.
	other := "W10" + strings.Repeat("0", 64) + "::server:first-secret"
	s.Args = []string{"--token", other}
	expectFailure(t, s, "its CA hash does not match this server's CA")

	tokenAfter, _ := os.ReadFile(filepath.Join(s.DataDir, "server", "token"))
	assert.Equal(t, tokenBefore, tokenAfter, "nothing changed")

	// The right full token is accepted.
	s.Args = []string{"--token", strings.TrimSpace(string(tokenBefore))}
	s.Start()
	s.WaitReady(3 * time.Minute)
}

func TestFullTokenOnNewServerRefused(t *testing.T) {
	s := testutil.NewServer(t, "--token", "W10"+strings.Repeat("ab", 32)+"::server:x")
	expectFailure(t, s, "its CA hash does not match")
}

func TestSQLiteFileThatIsNotADatabase(t *testing.T) {
	s := testutil.NewServer(t)
	db := filepath.Join(s.DataDir, "server", "db", "state.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(db), 0o700))
	junk := bytes.Repeat([]byte("not sqlite "), 100)
	require.NoError(t, os.WriteFile(db, junk, 0o600))
	expectFailure(t, s, "not a SQLite database")
	after, _ := os.ReadFile(db)
	assert.Equal(t, junk, after, "the file is left as it was")
}

func TestReadOnlyDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a read-only filesystem needs root")
	}
	s := testutil.NewServer(t)
	require.NoError(t, os.MkdirAll(s.DataDir, 0o755))
	require.NoError(t, syscall.Mount("tmpfs", s.DataDir, "tmpfs", syscall.MS_RDONLY, "size=1m"))
	t.Cleanup(func() { _ = syscall.Unmount(s.DataDir, syscall.MNT_DETACH) })
	expectFailure(t, s, "--data-dir "+s.DataDir+": not writable: read-only file system")
}

func TestDataDirWithoutPermission(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run wren as another user")
	}
	s := testutil.NewServer(t)
	require.NoError(t, os.MkdirAll(s.DataDir, 0o700)) // owned by root
	// Let the other user reach the data dir, but not write into it.
	require.NoError(t, os.Chmod(filepath.Dir(s.Dir), 0o755))
	require.NoError(t, os.Chmod(s.Dir, 0o755))
	cmd := exec.Command(testutil.Binary(t), s.CommandArgs()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Env = append(os.Environ(), "HOME="+s.Dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	require.Error(t, err)
	assert.Contains(t, lastLine(stderr.String()), "--data-dir "+s.DataDir+": not writable: permission denied")
}
