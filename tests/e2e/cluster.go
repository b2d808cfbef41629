//go:build e2e

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

	"github.com/wren-k8s/wren/tests/hoststate"
	"github.com/wren-k8s/wren/tests/testutil"
)

// Node is one wren node: a privileged container on the cluster's network.
type Node struct {
	Name      string // node and host name
	Container string
	IP        string
}

// Cluster is a server and its agents as containers from the project's image.
type Cluster struct {
	t       testing.TB
	ID      string
	Image   string
	Network string
	// Gateway is this host's address on the cluster network.
	Gateway string
	Server  *Node
	Agents  []*Node
	// Token is the server's full join token.
	Token string
	// images are tarballs copied into every node's images folder.
	images []string
	// files are copied into every node before it starts: node path -> host path.
	files map[string]string
	// resolvConf is the nodes' --resolv-conf (mounted at /etc/wren-resolv.conf).
	resolvConf string
}

// NewCluster builds the image and creates the network; Cleanup removes
// everything (containers, their volumes and cgroups, network, image) and
// restores the host's kernel settings, also when the test fails.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("e2e clusters need root and docker")
	}
	removeLabelled(t) // leftovers of a killed run
	before := hoststate.Snapshot()
	c := &Cluster{t: t, ID: randomID()}
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs()
		}
		removeLabelled(t)
		before.Restore()
	})
	c.Image = buildImage(t, c.ID)
	c.Network = "wren-e2e-" + c.ID
	mustDocker(t, time.Minute, "network", "create", "--label", label+"="+c.ID, c.Network)
	dir := t.TempDir()
	// Docker's resolv.conf names its embedded DNS on 127.0.0.11, which
	// pods cannot reach (CoreDNS would forward to itself). The nodes get the
	// network's gateway instead: this host's own bridge address.
	c.Gateway = mustDocker(t, time.Minute, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", c.Network)
	subnet := mustDocker(t, time.Minute, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", c.Network)
	isolateServiceCIDR(t, subnet)
	c.resolvConf = filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(c.resolvConf, []byte("nameserver "+c.Gateway+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	toolbox := filepath.Join(dir, "toolbox.tar.gz")
	testutil.WriteDockerArchive(t, toolbox, toolboxImage, testutil.BuildGoBinary(t, "./tests/images/toolbox"), "/toolbox")
	c.images = []string{testutil.AgnhostTarball(t), toolbox}
	return c
}

// toolboxImage is the test image built from tests/images/toolbox.
const toolboxImage = "wren.test/toolbox:1"

// createNode creates (without starting) a node container running
// `wren <args>`, with the test images in its images folder.
func (c *Cluster) createNode(name string, args ...string) *Node {
	c.t.Helper()
	n := &Node{Name: name, Container: "wren-e2e-" + c.ID + "-" + name}
	// NOTE: --privileged cannot start containers on hosts without
	// CAP_SYS_RESOURCE (runc: "unable to apply caps"); these flags give a
	// node what it needs instead (see the Dockerfile).
	run := []string{"create", "--name", n.Container, "--hostname", name, "--network", c.Network,
		"--label", label + "=" + c.ID, "--init", "--cgroupns", "private",
		"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
		"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"--security-opt", "systempaths=unconfined", "--device-cgroup-rule", "a *:* rwm", "--device", "/dev/kmsg",
		"--tmpfs", "/run", "--tmpfs", "/tmp", "-v", c.resolvConf + ":/etc/wren-resolv.conf:ro", c.Image}
	args = append(args, "--resolv-conf", "/etc/wren-resolv.conf")
	mustDocker(c.t, time.Minute, append(run, args...)...)
	for _, img := range c.images {
		mustDocker(c.t, 2*time.Minute, "cp", img, n.Container+":/var/lib/wren/agent/images/"+filepath.Base(img))
	}
	for dst, src := range c.files {
		mustDocker(c.t, time.Minute, "cp", src, n.Container+":"+dst)
	}
	return n
}

// start starts a created node and records its address.
func (c *Cluster) start(n *Node) {
	c.t.Helper()
	mustDocker(c.t, time.Minute, "start", n.Container)
	n.IP = mustDocker(c.t, time.Minute, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", n.Container)
}

// StartServer starts the server node and waits for its token.
func (c *Cluster) StartServer(args ...string) {
	c.t.Helper()
	c.Server = c.createNode("server", append([]string{"server", "--node-name", "server"}, args...)...)
	c.start(c.Server)
	testutil.Eventually(c.t, 3*time.Minute, time.Second, "server token", func() error {
		out, err := c.Exec(c.Server, "cat", "/var/lib/wren/server/token")
		c.Token = strings.TrimSpace(out)
		return err
	})
}

// ServerURL is the server's API address on the cluster network.
func (c *Cluster) ServerURL() string { return "https://" + c.Server.IP + ":6443" }

// StartAgent starts an agent that joins the server with the given token.
func (c *Cluster) StartAgent(name, token string, args ...string) *Node {
	c.t.Helper()
	n := c.createNode(name, append([]string{"agent", "--server", c.ServerURL(), "--token", token, "--node-name", name}, args...)...)
	c.start(n)
	c.Agents = append(c.Agents, n)
	return n
}

// Exec runs a command in a node's container.
func (c *Cluster) Exec(n *Node, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return docker(ctx, append([]string{"exec", n.Container}, args...)...)
}

// Kubectl runs the server's bundled kubectl.
func (c *Cluster) Kubectl(args ...string) (string, error) {
	return c.Exec(c.Server, append([]string{"wren", "kubectl"}, args...)...)
}

// MustKubectl runs kubectl and fails the test on error.
func (c *Cluster) MustKubectl(args ...string) string {
	c.t.Helper()
	out, err := c.Kubectl(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// Apply applies a manifest through the server's kubectl.
func (c *Cluster) Apply(manifest string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "exec", "-i", c.Server.Container, "wren", "kubectl", "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

// WaitNodesReady waits until every named node reports Ready=want.
func (c *Cluster) WaitNodesReady(timeout time.Duration, want string, names ...string) {
	c.t.Helper()
	testutil.Eventually(c.t, timeout, 2*time.Second, fmt.Sprintf("nodes %v Ready=%s", names, want), func() error {
		for _, name := range names {
			out, err := c.Kubectl("get", "node", name, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
			if err != nil {
				return err
			}
			if out != want {
				return fmt.Errorf("node %s Ready=%q", name, out)
			}
		}
		return nil
	})
}

// Running reports whether a node's container still runs, with its exit code.
func (c *Cluster) Running(n *Node) (bool, string) {
	out := mustDocker(c.t, time.Minute, "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", n.Container)
	running, code, _ := strings.Cut(out, " ")
	return running == "true", code
}

// Logs returns a node container's output.
func (c *Cluster) Logs(n *Node) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := dockerCombined(ctx, "logs", n.Container)
	return out
}

func (c *Cluster) dumpLogs() {
	nodes := append([]*Node{c.Server}, c.Agents...)
	for _, n := range nodes {
		if n == nil {
			continue
		}
		lines := strings.Split(c.Logs(n), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		c.t.Logf("==== %s (last lines)\n%s", n.Name, strings.Join(lines, "\n"))
	}
}
