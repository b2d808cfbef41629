// SPDX-License-Identifier: Apache-2.0

package registries

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadMissingFileIsNoConfig(t *testing.T) {
	r, warnings, err := Load(filepath.Join(t.TempDir(), "registries.yaml"))
	require.NoError(t, err)
	assert.Nil(t, r)
	assert.Empty(t, warnings)
	assert.Empty(t, r.HostsFiles())
	assert.Empty(t, r.Auths())
}

func TestLoadErrorsNameTheFileAndTheProblem(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ yaml, want string }{
		"not YAML":        {"mirrors: [", "--private-registry %s: "},
		"mirrors a list":  {"mirrors:\n  - docker.io\n", "cannot unmarshal"},
		"bad endpoint":    {"mirrors:\n  docker.io:\n    endpoint: [\"ftp://m:21\"]\n", `mirrors."docker.io".endpoint "ftp://m:21": scheme "ftp": want http or https`},
		"user in URL":     {"mirrors:\n  docker.io:\n    endpoint: [\"https://u:p@m\"]\n", "credentials go in configs"},
		"bad mirror name": {"mirrors:\n  \"https://docker.io\":\n    endpoint: [m]\n", "want a registry host[:port]"},
		"missing CA":      {"configs:\n  m:\n    tls:\n      ca_file: /nonexistent/ca.pem\n", `configs."m".tls.ca_file /nonexistent/ca.pem: no such file or directory`},
		"cert no key":     {"configs:\n  m:\n    tls:\n      cert_file: /etc/hostname\n", "cert_file and key_file go together"},
		"empty auth":      {"configs:\n  m:\n    auth: {}\n", `configs."m".auth: empty`},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "r.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.yaml), 0o600))
			_, _, err := Load(path)
			require.Error(t, err)
			want := tc.want
			if name == "not YAML" {
				want = "--private-registry " + path + ": "
			}
			assert.Contains(t, err.Error(), want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		_, _, err := Load(dir) // a directory
		require.Error(t, err)
		assert.Contains(t, err.Error(), "--private-registry "+dir+": is a directory")
	})
}

func TestUnknownKeysAndRewritesAreWarnings(t *testing.T) {
	// k3s's documentation shows auth.token, which no version ever read.
	r, warnings, err := Parse([]byte(`
mirrors:
  docker.io:
    endpoint: ["mirror.example.com"]
    rewrite:
      "^library/(.*)": "mirrored/$1"
configs:
  mirror.example.com:
    auth: {username: u, password: p, token: t}
`))
	require.NoError(t, err)
	require.Len(t, warnings, 2)
	assert.Contains(t, warnings[0], "field token not found")
	assert.Contains(t, warnings[1], `mirrors."docker.io".rewrite: not supported`)
	assert.Equal(t, "u", r.Configs["mirror.example.com"].Auth.Username)
}

func TestEndpoints(t *testing.T) {
	for in, want := range map[string]struct {
		url      string
		override bool
	}{
		"mirror.example.com":              {"https://mirror.example.com/v2", false},
		"mirror.example.com:5000":         {"https://mirror.example.com:5000/v2", false},
		"https://mirror.example.com/v2/":  {"https://mirror.example.com/v2", false},
		"http://mirror.example.com:80":    {"http://mirror.example.com:80/v2", false},
		"127.0.0.1:5000":                  {"http://127.0.0.1:5000/v2", false},
		"localhost:5000":                  {"http://localhost:5000/v2", false},
		"127.0.0.1:443":                   {"https://127.0.0.1:443/v2", false},
		"[::1]:5000":                      {"http://[::1]:5000/v2", false},
		"docker.io":                       {"https://registry-1.docker.io/v2", false},
		"registry.example.com/prefix/v2":  {"https://registry.example.com/prefix/v2", true},
		"https://registry.example.com/ab": {"https://registry.example.com/ab", true},
	} {
		ep, err := parseEndpoint(in)
		require.NoError(t, err, in)
		assert.Equal(t, want.url, ep.url.String(), in)
		assert.Equal(t, want.override, ep.overridePath, in)
	}
}

func TestHostsFiles(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	for _, f := range []string{ca, cert, key} {
		require.NoError(t, os.WriteFile(f, []byte("x"), 0o600))
	}
	r, warnings, err := Parse([]byte(`
mirrors:
  docker.io:
    endpoint:
      - https://mirror.example.com:5000
      - https://mirror.example.com:5000/v2
      - docker.io
      - registry.example.com/proxy/v2
  "*":
    endpoint: ["http://cache.local:8080"]
configs:
  mirror.example.com:5000:
    auth: {username: u, password: "p\"w"}
    tls: {ca_file: ` + ca + `, cert_file: ` + cert + `, key_file: ` + key + `}
  tls-only.example.com:
    tls: {insecure_skip_verify: true}
  docker.io:
    auth: {auth: dTpw}
`))
	require.NoError(t, err)
	assert.Empty(t, warnings)
	files := r.HostsFiles()
	assert.ElementsMatch(t, []string{"docker.io", "_default", "tls-only.example.com", "mirror.example.com:5000"}, slices.Collect(maps.Keys(files)))
	assert.Equal(t, Header+`server = "https://mirror.example.com:5000/v2"
ca = ["`+ca+`"]
client = [["`+cert+`", "`+key+`"]]
`, files["mirror.example.com:5000"], "a registry with TLS settings is also pulled from directly with them")

	assert.Equal(t, Header+`server = "https://registry-1.docker.io/v2"

[host."https://mirror.example.com:5000/v2"]
  capabilities = ["pull", "resolve"]
  ca = ["`+ca+`"]
  client = [["`+cert+`", "`+key+`"]]

[host."https://registry.example.com/proxy/v2"]
  capabilities = ["pull", "resolve"]
  override_path = true
`, files["docker.io"], "duplicates and the registry itself are not mirrors")

	assert.Equal(t, Header+`
[host."http://cache.local:8080/v2"]
  capabilities = ["pull", "resolve"]
`, files["_default"], `"*" has no server: containerd falls back to the registry asked for`)

	assert.Equal(t, Header+`server = "https://tls-only.example.com/v2"
skip_verify = true
`, files["tls-only.example.com"])

	assert.Equal(t, map[string]Auth{
		"mirror.example.com:5000": {Username: "u", Password: `p"w`},
		"registry-1.docker.io":    {Auth: "dTpw"},
	}, r.Auths(), "docker.io's credentials are looked up by the host containerd contacts")
}

func TestWildcardTLSGoesToDefault(t *testing.T) {
	r, _, err := Parse([]byte("configs:\n  \"*\":\n    tls: {insecure_skip_verify: true}\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{DefaultDir: Header + "skip_verify = true\n"}, r.HostsFiles())
}

func TestTOMLString(t *testing.T) {
	assert.Equal(t, `"a\"b\\c\u0007\u000a é"`, TOMLString("a\"b\\c\a\n é"))
}

func TestWriteHostsDir(t *testing.T) {
	dir := t.TempDir()
	// A user's own directory, and one wren wrote for a registry since removed.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "mine.example.com"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.example.com", "hosts.toml"), []byte("server = \"https://x\"\n"), 0o644))
	require.NoError(t, WriteHostsDir(dir, map[string]string{"old.example.com": Header + "server = \"https://old\"\n"}))

	require.NoError(t, WriteHostsDir(dir, map[string]string{"docker.io": Header + "server = \"x\"\n"}))
	got, err := os.ReadFile(filepath.Join(dir, "docker.io", "hosts.toml"))
	require.NoError(t, err)
	assert.Equal(t, Header+"server = \"x\"\n", string(got))
	assert.NoDirExists(t, filepath.Join(dir, "old.example.com"), "wren's stale directory is removed")
	assert.FileExists(t, filepath.Join(dir, "mine.example.com", "hosts.toml"), "the user's is kept")
}
