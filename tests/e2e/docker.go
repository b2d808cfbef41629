//go:build e2e

// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wren-k8s/wren/tests/testutil"
)

// label marks every container, network and image the e2e tests make, so a
// run also removes what an earlier, killed run left behind.
const label = "wren-e2e"

// docker runs the docker CLI and returns its trimmed stdout.
func docker(ctx context.Context, args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// mustDocker runs docker with a timeout and fails the test on error.
func mustDocker(t testing.TB, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := docker(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// removeLabelled removes every container, network and image carrying label
// (with any value), and the cgroups the containers' kubelets left.
func removeLabelled(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ids, _ := docker(ctx, "ps", "-aq", "--filter", "label="+label)
	for _, id := range strings.Fields(ids) {
		full, _ := docker(ctx, "inspect", "-f", "{{.Id}}", id)
		if _, err := docker(ctx, "rm", "-f", "-v", id); err != nil {
			t.Logf("cleanup: %v", err)
		}
		removeCgroups(full)
	}
	nets, _ := docker(ctx, "network", "ls", "-q", "--filter", "label="+label)
	for _, id := range strings.Fields(nets) {
		if _, err := docker(ctx, "network", "rm", id); err != nil {
			t.Logf("cleanup: %v", err)
		}
	}
	removeIsolationRules(t)
	imgs, _ := docker(ctx, "images", "-q", "--filter", "label="+label)
	for _, id := range strings.Fields(imgs) {
		if _, err := docker(ctx, "rmi", "-f", id); err != nil {
			t.Logf("cleanup: %v", err)
		}
	}
}

// removeCgroups removes the (empty) cgroups a node container's kubelet
// created below the container's own cgroup, which docker leaves on cgroup v1.
func removeCgroups(containerID string) {
	if containerID == "" {
		return
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/docker/" + containerID)
	for _, d := range dirs {
		var all []string
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			_ = os.Remove(all[i])
		}
	}
}

// buildImage builds the project's node image (Dockerfile, on the Debian
// rootfs from scripts/node-rootfs.sh) under a unique tag and returns it.
func buildImage(t testing.TB, id string) string {
	t.Helper()
	root := testutil.RepoRoot()
	base := lastLine(mustRun(t, 15*time.Minute, root, "scripts/node-rootfs.sh"))
	tag := "wren-e2e:" + id
	mustRun(t, 10*time.Minute, root, "docker", "build", "-q", "--label", label+"="+id,
		"--build-arg", "BASE="+base, "-t", tag, ".")
	return tag
}

func mustRun(t testing.TB, timeout time.Duration, dir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// dockerCombined runs docker and returns stdout and stderr together.
func dockerCombined(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return string(out), err
}

// serviceCIDR is wren's default Service range, which the clusters use.
const serviceCIDR = "10.43.0.0/16"

// isolateServiceCIDR makes this host refuse what the cluster network sends
// to Service addresses kube-proxy did not translate (a ClusterIP on a port
// the Service no longer has), as a real network would not answer it: the
// sandbox this runs in has a transparent HTTP proxy that answers any port
// 80 connection, which turned "the Service no longer forwards TCP" into a
// successful connection. The rule is removed with the cluster.
func isolateServiceCIDR(t testing.TB, subnet string) {
	t.Helper()
	rule := []string{"FORWARD", "-s", subnet, "-d", serviceCIDR, "-m", "comment", "--comment", label, "-j", "REJECT"}
	if out, err := exec.Command("iptables", append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables -I %v: %v: %s", rule, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("iptables", append([]string{"-D"}, rule...)...).Run() })
}

// removeIsolationRules removes the FORWARD rules isolateServiceCIDR left
// behind (a killed run).
func removeIsolationRules(t testing.TB) {
	out, err := exec.Command("iptables", "-S", "FORWARD").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "-A" || !strings.Contains(line, "--comment "+label+" ") {
			continue
		}
		if out, err := exec.Command("iptables", append([]string{"-D"}, f[1:]...)...).CombinedOutput(); err != nil {
			t.Logf("cleanup: iptables -D %v: %v: %s", f[1:], err, out)
		}
	}
}
