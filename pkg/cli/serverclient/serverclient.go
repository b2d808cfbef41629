// SPDX-License-Identifier: Apache-2.0

// Package serverclient is the connection of the commands that act on a
// running server through its supervisor with the server token
// (`wren secrets-encrypt`, `wren token rotate`).
package serverclient

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wren-k8s/wren/pkg/cli/flagsource"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/join"
	"github.com/wren-k8s/wren/pkg/token"
)

// DefaultServer is the local server's supervisor.
const DefaultServer = "https://127.0.0.1:6443"

// Flags locate the server and the token.
type Flags struct {
	DataDir string
	Server  string
	Token   string
}

// Bind adds --data-dir, --server and --token (with their WREN_* variables).
func (f *Flags) Bind(fs *pflag.FlagSet) {
	f.DataDir, f.Server = config.DefaultDataDir(), DefaultServer
	fs.StringVarP(&f.DataDir, "data-dir", "d", f.DataDir, "Data dir of the server (its token is read from there when --token is not given)")
	fs.StringVarP(&f.Server, "server", "s", f.Server, "Server to talk to")
	fs.StringVarP(&f.Token, "token", "t", "", "The server token (default: <data-dir>/server/token)")
	flagsource.BindEnv(fs, "data-dir", "WREN_DATA_DIR")
	flagsource.BindEnv(fs, "server", "WREN_URL")
	flagsource.BindEnv(fs, "token", "WREN_TOKEN")
}

// Load fills the flags not given from their WREN_* variables.
func Load(fs *pflag.FlagSet) error { return flagsource.Apply(fs, nil) }

// Dial reads the token and connects to the server, trusting the CA the token
// pins (or, for a bare secret, the local server's CA file).
func (f *Flags) Dial(ctx context.Context) (*join.Client, error) {
	raw, from := f.Token, "--token"
	if raw == "" {
		from = filepath.Join(f.DataDir, "server", "token")
		b, err := os.ReadFile(from)
		if err != nil {
			return nil, fmt.Errorf("--token not given and the server token is unreadable: %w", err)
		}
		raw = string(b)
	}
	tok, err := token.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	tok.User = token.UserServer
	if tok.CAHash == "" {
		ca, err := os.ReadFile(filepath.Join(f.DataDir, "server", "tls", "server-ca.crt"))
		if err == nil && strings.HasPrefix(f.Server, DefaultServer) {
			return join.New(f.Server, tok, ca), nil
		}
	}
	return join.Dial(ctx, f.Server, tok, slog.New(slog.NewTextHandler(io.Discard, nil)))
}
