//go:build e2e && conformance

// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// TestConformance runs upstream's [Conformance] suite (e2e.test and ginkgo
// from scripts/conformance/build.sh, images from scripts/conformance/images.sh)
// against a server and two agents, the parallel pass and then the [Serial]
// one, and writes bench/conformance.md. `make conformance` runs it;
// WREN_CONFORMANCE_FOCUS (a ginkgo regexp) narrows both passes, for
// debugging one test, and then the report goes to build/conformance/.
func TestConformance(t *testing.T) {
	root := testutil.RepoRoot()
	dir := filepath.Join(root, "build", "conformance")
	e2eTest, ginkgo, images := filepath.Join(dir, "e2e.test"), filepath.Join(dir, "ginkgo"), filepath.Join(dir, "images.tar")
	for _, f := range []string{e2eTest, ginkgo, images} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%v: run scripts/conformance/build.sh and scripts/conformance/images.sh (make conformance)", err)
		}
	}
	c := NewCluster(t)
	c.images = []string{images}
	registries, mirror := kittenMirror(t, c)
	c.files = map[string]string{"/etc/wren-registries.yaml": registries}
	common := []string{"--private-registry", "/etc/wren-registries.yaml"}
	c.StartServer(common...)
	c.StartAgent("agent-1", c.Token, common...)
	c.StartAgent("agent-2", c.Token, common...)
	c.WaitNodesReady(5*time.Minute, "True", "server", "agent-1", "agent-2")
	pushKitten(t, c, mirror)

	work := t.TempDir()
	kubeconfig := c.hostKubeconfig(work)
	// e2e.test runs `kubectl`: wren's, by its multicall name.
	binDir := filepath.Join(work, "bin")
	require.NoError(t, os.MkdirAll(binDir, 0o755))
	require.NoError(t, os.Symlink(testutil.Binary(t), filepath.Join(binDir, "kubectl")))

	focus, reportDir := `\[Conformance\]`, filepath.Join(root, "bench")
	if f := os.Getenv("WREN_CONFORMANCE_FOCUS"); f != "" {
		focus, reportDir = f, dir
	}
	run := func(name string, nodes int, skip string, focus ...string) pass {
		start := time.Now()
		junit := filepath.Join(work, name+".xml")
		args := []string{"--nodes", fmt.Sprint(nodes), "--timeout", "4h", "--no-color", "--junit-report", junit}
		for _, f := range focus {
			args = append(args, "--focus", f)
		}
		if skip != "" {
			args = append(args, "--skip", skip)
		}
		args = append(args, e2eTest, "--", "--kubeconfig", kubeconfig, "--provider", "skeleton",
			"--report-dir", filepath.Join(work, name))
		cmd := exec.Command(ginkgo, args...)
		cmd.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"), "KUBECONFIG="+kubeconfig)
		log, err := os.Create(filepath.Join(dir, name+".log"))
		require.NoError(t, err)
		defer log.Close()
		cmd.Stdout, cmd.Stderr = log, log
		t.Logf("%s pass: ginkgo %s (log: %s)", name, strings.Join(args, " "), log.Name())
		runErr := cmd.Run()
		p, err := readJUnit(junit)
		if err != nil {
			t.Fatalf("%s pass: %v (ginkgo: %v; see %s)", name, err, runErr, log.Name())
		}
		p.name, p.nodes, p.duration = name, nodes, time.Since(start)
		t.Logf("%s pass: %d passed, %d failed, %d skipped in %s", name, p.passed, len(p.failed), len(p.skipped), p.duration.Round(time.Second))
		return p
	}
	parallel := run("parallel", 6, `\[Serial\]`, focus)
	serial := run("serial", 1, "", `(?:`+focus+`).*\[Serial\]`, `\[Serial\].*(?:`+focus+`)`)
	report := filepath.Join(reportDir, "conformance.md")
	require.NoError(t, os.WriteFile(report, []byte(markdown(c.clusterSummary(), parallel, serial)), 0o644))
	t.Logf("wrote %s", report)
	for _, p := range []pass{parallel, serial} {
		for _, f := range p.failed {
			t.Errorf("%s: %s\n    %s", p.name, f.name, f.excerpt)
		}
	}
}

// kittenMirror starts a plain-HTTP registry on the host's address on the
// cluster network and returns a registries.yaml that mirrors registry.k8s.io
// to it, and its address: the ImageVolume test pulls the kitten image with
// policy Always.
func kittenMirror(t *testing.T, c *Cluster) (file, addr string) {
	reg := testutil.StartRegistry(t, testutil.RegistryOptions{IP: c.Gateway})
	file = filepath.Join(t.TempDir(), "registries.yaml")
	require.NoError(t, os.WriteFile(file, []byte("mirrors:\n  registry.k8s.io:\n    endpoint: [\"http://"+reg.Addr+"\"]\n"), 0o644))
	return file, reg.Addr
}

// pushKitten pushes the kitten image (imported on the server with the
// others) to the mirror.
func pushKitten(t *testing.T, c *Cluster, mirror string) {
	const kitten = "registry.k8s.io/e2e-test-images/kitten:1.8"
	testutil.Eventually(t, 3*time.Minute, 2*time.Second, "kitten image imported", func() error {
		_, err := c.Exec(c.Server, "wren", "ctr", "-n", "k8s.io", "images", "inspect", kitten)
		return err
	})
	if out, err := c.Exec(c.Server, "wren", "ctr", "-n", "k8s.io", "images", "push", "--plain-http",
		mirror+"/e2e-test-images/kitten:1.8", kitten); err != nil {
		t.Fatalf("push %s: %v\n%s", kitten, err, out)
	}
}

// hostKubeconfig writes the server's admin kubeconfig, pointed at the
// server's address on the cluster network, for programs on this host.
func (c *Cluster) hostKubeconfig(dir string) string {
	c.t.Helper()
	out, err := c.Exec(c.Server, "cat", "/etc/wren/wren.yaml")
	if err != nil {
		c.t.Fatal(err)
	}
	out = strings.ReplaceAll(out, "https://127.0.0.1:6443", c.ServerURL())
	f := filepath.Join(dir, "kubeconfig")
	require.NoError(c.t, os.WriteFile(f, []byte(out), 0o600))
	return f
}

// clusterSummary describes the cluster the suite ran on.
func (c *Cluster) clusterSummary() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nodes, _ := docker(ctx, "exec", c.Server.Container, "wren", "kubectl", "get", "nodes", "-o", "wide")
	version, _ := docker(ctx, "exec", c.Server.Container, "wren", "--version")
	return version + "\n\n" + nodes
}
