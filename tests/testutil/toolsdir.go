// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wren-k8s/wren/pkg/payload"
)

// ToolsDataDir is where wren commands that name no data directory (kubectl,
// `token create --kubeconfig`, check-config) extract the release during the
// tests, instead of the host's /var/lib/wren: every test process points
// $WREN_DATA_DIR there, and it holds only the release of the binary under
// test.
var ToolsDataDir = filepath.Join(os.TempDir(), "wren-tests")

func init() {
	if os.Getenv("WREN_DATA_DIR") == "" {
		_ = os.Setenv("WREN_DATA_DIR", ToolsDataDir)
	}
}

var pruneTools sync.Once

// pruneToolsDataDir removes the releases of other builds from ToolsDataDir.
func pruneToolsDataDir(t testing.TB, bin string) {
	pruneTools.Do(func() {
		p, err := payload.Open(bin)
		if err != nil {
			return
		}
		dirs, _ := filepath.Glob(filepath.Join(ToolsDataDir, "data", "[0-9a-f]*"))
		for _, d := range dirs {
			if filepath.Base(d) != p.Hash() {
				if err := os.RemoveAll(d); err != nil {
					t.Logf("remove an old release: %v", err)
				}
			}
		}
	})
}

// AssertNoState checks that a refused command left no state in dataDir: the
// directory is absent or holds only data/, the release the launcher
// extracted before the command could look at its flags (as k3s does).
func AssertNoState(t testing.TB, dataDir, why string) {
	t.Helper()
	entries, err := os.ReadDir(dataDir)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Errorf("%s: %v", why, err)
		return
	}
	for _, e := range entries {
		if e.Name() != "data" {
			t.Errorf("%s: %s holds %s", why, dataDir, e.Name())
		}
	}
}
