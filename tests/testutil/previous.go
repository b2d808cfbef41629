// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PreviousBinary builds wren as it was at the repository's parent commit
// (the previous release, for upgrade and rollback tests) in a git worktree,
// once per commit: the result is kept in build/previous/<commit>/wren.
func PreviousBinary(t testing.TB) string {
	t.Helper()
	root, _ := filepath.Abs(RepoRoot())
	parent := func() (string, error) {
		out, err := exec.Command("git", "-C", root, "rev-parse", "--verify", "--quiet", "HEAD~1^{commit}").Output()
		return strings.TrimSpace(string(out)), err
	}
	commit, err := parent()
	if err != nil {
		// A shallow clone: fetch one more commit of history.
		_ = exec.Command("git", "-C", root, "fetch", "--quiet", "--deepen=1").Run()
		if commit, err = parent(); err != nil {
			t.Skipf("the parent commit is not in this clone's history (shallow, and it could not be fetched): no previous release to upgrade from")
		}
	}
	bin := filepath.Join(root, "build", "previous", commit, "wren")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	src := filepath.Join(t.TempDir(), "src")
	Run(t, "git", "-C", root, "worktree", "add", "--detach", src, commit)
	defer func() { _ = exec.Command("git", "-C", root, "worktree", "remove", "--force", src).Run() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "scripts/build.sh")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build wren at %s: %v\n%s", commit, err, tail(string(out), 30))
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	// Copied under a temporary name first: an interrupted copy is never taken for a build.
	Run(t, "cp", filepath.Join(src, "bin", "wren"), bin+".tmp")
	if err := os.Rename(bin+".tmp", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}
