// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"os"
	"time"

	"github.com/wren-k8s/wren/tests/hoststate"
)

// cleanHost stops everything the node started, removes what it left in the
// host's shared places and restores the settings recorded before it started.
func (s *Server) cleanHost(before hoststate.State) {
	ctx := 2 * time.Minute
	res := RunWren(s.t, ctx, nil, "killall", "--data-dir", s.DataDir)
	if res.ExitCode != 0 {
		s.t.Errorf("wren killall: %s", res.Stderr)
	}
	for _, dir := range hoststate.NodeDirs {
		if err := os.RemoveAll(dir); err != nil {
			s.t.Errorf("remove %s: %v", dir, err)
		}
	}
	before.Restore()
}
