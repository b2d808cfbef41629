// SPDX-License-Identifier: Apache-2.0

package payload

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// payloadDir matches the names of extracted payloads (Hash).
var payloadDir = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Prune removes the payloads under dataDir that are neither current nor
// previous (rolling back by one release needs that one) and that no running
// process was started from (a container's shim from two releases ago keeps
// its directory), once this release's is in place. It returns the
// directories removed.
func Prune(dataDir string) ([]string, error) {
	keep := map[string]bool{}
	for _, link := range []string{"current", "previous"} {
		if target, err := os.Readlink(filepath.Join(dataDir, link)); err == nil {
			keep[filepath.Base(target)] = true
		}
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return nil, err
	}
	var removed []string
	inUse := runningFrom(dataDir)
	for _, e := range entries {
		if !e.IsDir() || !payloadDir.MatchString(e.Name()) || keep[e.Name()] || inUse[e.Name()] {
			continue
		}
		dir := filepath.Join(dataDir, e.Name())
		if err := os.RemoveAll(dir); err != nil {
			return removed, err
		}
		removed = append(removed, dir)
	}
	return removed, nil
}

// runningFrom names the payload directories under dataDir that a running
// process's executable lives in.
func runningFrom(dataDir string) map[string]bool {
	out := map[string]bool{}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return out
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		exe, err := os.Readlink(filepath.Join("/proc", p.Name(), "exe"))
		if err != nil {
			continue
		}
		if rel, ok := strings.CutPrefix(exe, abs+string(filepath.Separator)); ok {
			out[strings.SplitN(rel, string(filepath.Separator), 2)[0]] = true
		}
	}
	return out
}
