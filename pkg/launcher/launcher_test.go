// SPDX-License-Identifier: Apache-2.0

package launcher

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agentcmd "github.com/wren-k8s/wren/pkg/cli/agent"
	"github.com/wren-k8s/wren/pkg/cli/flagsource"
	servercmd "github.com/wren-k8s/wren/pkg/cli/server"
	"github.com/wren-k8s/wren/pkg/internal/datadir"
)

type dataDirCase struct {
	name  string
	args  []string // after "wren"
	env   map[string]string
	files map[string]string // config files, relative to a temp dir ("config.yaml", "config.yaml.d/x.yaml")
	want  string            // "" means the default; relative paths are made absolute
}

func dataDirCases() []dataDirCase {
	return []dataDirCase{
		{name: "default", args: []string{"server"}},
		{name: "flag", args: []string{"server", "--data-dir", "/srv/wren"}, want: "/srv/wren"},
		{name: "flag with =", args: []string{"agent", "--data-dir=/srv/a"}, want: "/srv/a"},
		{name: "short flag, relative", args: []string{"server", "-d", "rel/dir"}, want: "rel/dir"},
		{name: "flag among unknown ones", args: []string{"server", "--token", "x", "--disable-agent", "-d", "/z", "--node-label", "a=b"}, want: "/z"},
		{name: "env", args: []string{"server"}, env: map[string]string{"WREN_DATA_DIR": "/from/env"}, want: "/from/env"},
		{name: "flag beats env", args: []string{"server", "-d", "/flag"}, env: map[string]string{"WREN_DATA_DIR": "/env"}, want: "/flag"},
		{name: "config file", args: []string{"server", "--config", "@/config.yaml"},
			files: map[string]string{"config.yaml": "data-dir: /from/file\ntoken: abc\n"}, want: "/from/file"},
		{name: "config file from env", args: []string{"agent"}, env: map[string]string{"WREN_CONFIG_FILE": "@/c.yaml"},
			files: map[string]string{"c.yaml": "server: https://x:6443\ndata-dir: /agent/file\n"}, want: "/agent/file"},
		{name: "drop-in wins", args: []string{"server", "-c", "@/config.yaml"},
			files: map[string]string{"config.yaml": "data-dir: /main\n", "config.yaml.d/10-x.yaml": "data-dir: /dropin\n"}, want: "/dropin"},
		{name: "env beats config file", args: []string{"server", "-c", "@/config.yaml"}, env: map[string]string{"WREN_DATA_DIR": "/env"},
			files: map[string]string{"config.yaml": "data-dir: /file\n"}, want: "/env"},
		{name: "flag beats config file", args: []string{"server", "-c", "@/config.yaml", "--data-dir", "/flag"},
			files: map[string]string{"config.yaml": "data-dir: /file\n"}, want: "/flag"},
	}
}

// prepare writes the case's files and expands "@" in args and env to their directory.
func (c dataDirCase) prepare(t *testing.T) []string {
	dir := t.TempDir()
	for name, content := range c.files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	expand := func(s string) string {
		if len(s) > 0 && s[0] == '@' {
			return dir + s[1:]
		}
		return s
	}
	args := []string{"wren"}
	for _, a := range c.args {
		args = append(args, expand(a))
	}
	t.Setenv("WREN_DATA_DIR", "")
	t.Setenv("WREN_CONFIG_FILE", "")
	for k, v := range c.env {
		t.Setenv(k, expand(v))
	}
	return args
}

func (c dataDirCase) wantDir(t *testing.T) string {
	if c.want == "" {
		return datadir.Default()
	}
	abs, err := filepath.Abs(c.want)
	require.NoError(t, err)
	return abs
}

func TestDataDir(t *testing.T) {
	for _, c := range dataDirCases() {
		t.Run(c.name, func(t *testing.T) {
			args := c.prepare(t)
			got, err := DataDir(args, os.LookupEnv)
			require.NoError(t, err)
			assert.Equal(t, c.wantDir(t), got)
		})
	}
}

// The launcher must extract where the command will look: every case gives
// the same directory through wren's real server and agent flag handling.
func TestDataDirAgreesWithTheCommands(t *testing.T) {
	for _, c := range dataDirCases() {
		t.Run(c.name, func(t *testing.T) {
			args := c.prepare(t)
			var cmd *cobra.Command
			switch args[1] {
			case "server":
				cmd = servercmd.NewCommand(io.Discard)
			case "agent":
				cmd = agentcmd.NewCommand(io.Discard)
			}
			require.NoError(t, cmd.ParseFlags(args[2:]))
			require.NoError(t, flagsource.Load(cmd.Flags(), cmd.Flags().Lookup("config").Value.String()))
			fromCommand, err := filepath.Abs(cmd.Flags().Lookup("data-dir").Value.String())
			require.NoError(t, err)
			fromLauncher, err := DataDir(args, os.LookupEnv)
			require.NoError(t, err)
			assert.Equal(t, fromCommand, fromLauncher)
		})
	}
}

func TestToolsUseTheDefaultOrEnv(t *testing.T) {
	t.Setenv("WREN_DATA_DIR", "")
	got, err := DataDir([]string{"/usr/local/bin/kubectl", "get", "-d", "/nope"}, os.LookupEnv)
	require.NoError(t, err)
	assert.Equal(t, datadir.Default(), got)
	got, err = DataDir([]string{"wren", "crictl", "ps"}, func(k string) (string, bool) {
		return map[string]string{"WREN_DATA_DIR": "/e"}[k], k == "WREN_DATA_DIR"
	})
	require.NoError(t, err)
	assert.Equal(t, "/e", got)
}

func TestBadConfigFileIsNamed(t *testing.T) {
	t.Setenv("WREN_DATA_DIR", "")
	t.Setenv("WREN_CONFIG_FILE", "")
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := DataDir([]string{"wren", "server", "--config", missing}, os.LookupEnv)
	require.ErrorContains(t, err, "config file "+missing)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("data-dir: [a, b]\n"), 0o644))
	_, err = DataDir([]string{"wren", "server", "--config", bad}, os.LookupEnv)
	require.ErrorContains(t, err, "config file "+bad+": line 1")
}
