// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// NewAgent prepares a `wren agent` on this host that joins srv (a server
// started with --disable-agent) with token, or srv's own token when token is
// empty. Like NewNode it has the agnhost image to import and its cleanup
// restores the host. Kubectl on it uses srv's admin kubeconfig.
func NewAgent(t testing.TB, srv *Server, token string, args ...string) *Server {
	t.Helper()
	if token == "" {
		b, err := os.ReadFile(filepath.Join(srv.DataDir, "server", "token"))
		if err != nil {
			t.Fatal(err)
		}
		token = strings.TrimSpace(string(b))
	}
	a := NewNode(t, args...)
	a.JoinURL = fmt.Sprintf("https://127.0.0.1:%d", srv.Port)
	a.JoinToken = token
	a.Kubeconfig = srv.Kubeconfig
	return a
}
