// SPDX-License-Identifier: Apache-2.0

package flagsource

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type flags struct {
	dataDir string
	port    int
	mode    string
	debug   bool
	sans    []string
	args    []string
}

func newFlags() (*pflag.FlagSet, *flags) {
	f := &flags{}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.StringVar(&f.dataDir, "data-dir", "/default", "")
	fs.IntVar(&f.port, "https-listen-port", 6443, "")
	fs.StringVar(&f.mode, "write-kubeconfig-mode", "", "")
	fs.BoolVar(&f.debug, "debug", false, "")
	fs.StringSliceVar(&f.sans, "tls-san", nil, "")
	fs.StringArrayVar(&f.args, "kube-apiserver-arg", nil, "")
	BindEnv(fs, "data-dir", "WREN_TEST_DATA_DIR")
	BindEnv(fs, "https-listen-port", "WREN_TEST_PORT")
	return fs, f
}

func write(t *testing.T, path, content string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// Not parallel: uses t.Setenv.
func TestPrecedenceFlagEnvFileDefault(t *testing.T) {
	dir := t.TempDir()
	main := write(t, filepath.Join(dir, "config.yaml"), `
data-dir: /from-file
https-listen-port: 7443
write-kubeconfig-mode: 0644
debug: true
tls-san: [a.example, b.example]
kube-apiserver-arg:
  - v=2
`)
	write(t, filepath.Join(dir, "config.yaml.d", "10-more.yaml"), "tls-san+: [c.example]\nkube-apiserver-arg: [v=4]\n")
	files, err := ConfigFiles(main, true)
	require.NoError(t, err)
	require.Len(t, files, 2)

	t.Setenv("WREN_TEST_PORT", "8443")
	t.Setenv("WREN_TEST_DATA_DIR", "/from-env")
	fs, f := newFlags()
	require.NoError(t, fs.Parse([]string{"--data-dir=/from-flag"}))
	require.NoError(t, Apply(fs, files))

	assert.Equal(t, "/from-flag", f.dataDir, "flag beats env and file")
	assert.Equal(t, 8443, f.port, "env beats file")
	assert.Equal(t, "0644", f.mode, "octal stays as written")
	assert.True(t, f.debug)
	assert.Equal(t, []string{"a.example", "b.example", "c.example"}, f.sans, "key+ appends")
	assert.Equal(t, []string{"v=4"}, f.args, "a later file replaces")
}

func TestDefaultsWhenNothingSet(t *testing.T) {
	t.Parallel()
	fs, f := newFlags()
	require.NoError(t, fs.Parse(nil))
	files, err := ConfigFiles(filepath.Join(t.TempDir(), "missing.yaml"), false)
	require.NoError(t, err)
	require.NoError(t, Apply(fs, files))
	assert.Equal(t, "/default", f.dataDir)
	assert.Equal(t, 6443, f.port)
}

func TestBadFiles(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, content, want string }{
		{"unknown key", "data-dir: /x\nbogus: 1\n", `line 2: unknown key "bogus"`},
		{"malformed", "data-dir: [unclosed\n", "config file"},
		{"bad value", "https-listen-port: lots\n", `key "https-listen-port"`},
		{"list for scalar", "data-dir: [a, b]\n", "a list is not allowed here"},
		{"not a map", "- a\n- b\n", "want a map"},
		{"null", "data-dir:\n", "no value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := write(t, filepath.Join(t.TempDir(), "c.yaml"), tc.content)
			fs, _ := newFlags()
			require.NoError(t, fs.Parse(nil))
			err := Apply(fs, []string{path})
			require.ErrorContains(t, err, tc.want)
			assert.Contains(t, err.Error(), path, "the error names the file")
		})
	}
}

func TestRequiredConfigMissing(t *testing.T) {
	t.Parallel()
	_, err := ConfigFiles(filepath.Join(t.TempDir(), "nope.yaml"), true)
	require.ErrorContains(t, err, "nope.yaml")
}

func TestBadEnvNamesVariable(t *testing.T) {
	t.Setenv("WREN_TEST_PORT", "many")
	fs, _ := newFlags()
	require.NoError(t, fs.Parse(nil))
	require.ErrorContains(t, Apply(fs, nil), "$WREN_TEST_PORT")
}
