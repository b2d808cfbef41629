// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wren-k8s/wren/tests/hoststate"
)

// Server is one `wren server` process under test, with its own data dir,
// kubeconfig and ports.
type Server struct {
	t          testing.TB
	Dir        string // scratch directory holding everything below
	DataDir    string
	Kubeconfig string
	Port       int
	// ControllerManagerPort and SchedulerPort are their loopback health ports.
	ControllerManagerPort int
	SchedulerPort         int
	Args                  []string // extra arguments, after wren's test defaults
	LogPath               string
	// Node runs the node too (containerd, kubelet, ...); otherwise --disable-agent.
	Node bool
	// JoinURL and JoinToken make this a `wren agent` joining that server.
	JoinURL, JoinToken string
	// Env is added to the process's environment.
	Env []string
	// Bin, when set, is the wren binary Start runs (default: Binary).
	Bin string

	cmd *exec.Cmd
	// logStart is the log's size when the current process started.
	logStart int64
	done     chan struct{}
	err      error
	logs     *os.File
}

// NewServer prepares a server in a fresh scratch directory without starting it.
// The test's cleanup stops it and removes everything it left behind.
func NewServer(t testing.TB, args ...string) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{
		t:                     t,
		Dir:                   dir,
		DataDir:               filepath.Join(dir, "data"),
		Kubeconfig:            filepath.Join(dir, "kubeconfig.yaml"),
		Port:                  FreePort(t),
		Args:                  args,
		ControllerManagerPort: FreePort(t),
		SchedulerPort:         FreePort(t),
		LogPath:               filepath.Join(dir, "wren.log"),
	}
	t.Cleanup(s.cleanup)
	return s
}

// NewNode prepares a server that runs a node, with the agnhost image in its
// images folder. Its cleanup kills containerd and every container and
// restores the host (mounts, interfaces, firewall rules, sysctls).
func NewNode(t testing.TB, args ...string) *Server {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a node needs root")
	}
	before := hoststate.Snapshot()
	var s *Server
	// Registered first, so it runs last: after the server was stopped.
	t.Cleanup(func() { s.cleanHost(before) })
	s = NewServer(t, args...)
	s.Node = true
	images := filepath.Join(s.DataDir, "agent", "images")
	if err := os.MkdirAll(images, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(AgnhostTarball(t), filepath.Join(images, "agnhost.tar")); err != nil {
		t.Fatal(err)
	}
	return s
}

// StartNode prepares a node, starts it and waits until the node is Ready.
func StartNode(t testing.TB, args ...string) *Server {
	t.Helper()
	s := NewNode(t, args...)
	s.Start()
	s.WaitReady(3 * time.Minute)
	s.WaitNodeReady(3 * time.Minute)
	return s
}

// WaitNodeReady waits until every node reports Ready.
func (s *Server) WaitNodeReady(timeout time.Duration) {
	s.t.Helper()
	Eventually(s.t, timeout, 500*time.Millisecond, "node Ready", func() error {
		out, err := s.Kubectl("get", "nodes", "-o", `jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}`)
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		if strings.TrimSpace(out) == "" || strings.Contains(out, "False") || strings.Contains(out, "Unknown") {
			return fmt.Errorf("node Ready: %q", out)
		}
		return nil
	})
}

// StartServer prepares a server, starts it and waits until it is ready.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	s := NewServer(t, args...)
	s.Start()
	s.WaitReady(3 * time.Minute)
	return s
}

// CommandArgs is the full argument list the server is started with.
func (s *Server) CommandArgs() []string {
	if s.JoinURL != "" {
		return append([]string{"agent", "--server", s.JoinURL, "--token", s.JoinToken, "--data-dir", s.DataDir}, s.Args...)
	}
	args := []string{"server"}
	if !s.Node {
		args = append(args, "--disable-agent")
	}
	return append(append(args,
		"--data-dir", s.DataDir,
		"--write-kubeconfig", s.Kubeconfig,
		"--https-listen-port", itoa(s.Port),
		"--kube-controller-manager-arg", "secure-port="+itoa(s.ControllerManagerPort),
		"--kube-scheduler-arg", "secure-port="+itoa(s.SchedulerPort),
	), s.Args...)
}

// Start launches the server in its own process group; the log goes to LogPath.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil && !s.exited() {
		s.t.Fatal("server already running")
	}
	logs, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	if fi, err := logs.Stat(); err == nil {
		s.logStart = fi.Size()
	}
	fmt.Fprintf(logs, "==== start %s %v\n", time.Now().Format(time.RFC3339), s.CommandArgs())
	bin := s.Bin
	if bin == "" {
		bin = Binary(s.t)
	}
	cmd := exec.Command(bin, s.CommandArgs()...)
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logs.Close()
		s.t.Fatal(err)
	}
	s.cmd, s.logs, s.done = cmd, logs, make(chan struct{})
	go func() {
		s.err = cmd.Wait()
		logs.Close()
		close(s.done)
	}()
}

func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// WaitReady waits until this process of wren logged that every component is
// ready, and /readyz answers.
func (s *Server) WaitReady(timeout time.Duration) {
	s.t.Helper()
	Eventually(s.t, timeout, 250*time.Millisecond, "wren server ready", func() error {
		if s.exited() {
			s.t.Fatalf("wren server exited before it was ready: %v\n%s", s.err, s.LogTail(60))
		}
		if s.JoinURL != "" {
			if !s.loggedSinceStart("wren agent is ready") {
				return fmt.Errorf("not all components ready yet")
			}
			return nil
		}
		if !s.loggedSinceStart("wren server is ready") {
			return fmt.Errorf("not all components ready yet")
		}
		out, err := s.Kubectl("get", "--raw", "/readyz")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
}

// loggedSinceStart reports whether the current process logged msg.
func (s *Server) loggedSinceStart(msg string) bool {
	b, err := os.ReadFile(s.LogPath)
	if err != nil || int64(len(b)) < s.logStart {
		return false
	}
	return strings.Contains(string(b[s.logStart:]), msg)
}

// Stop sends SIGTERM and waits; a clean shutdown exits 0.
func (s *Server) Stop() {
	s.t.Helper()
	if s.cmd == nil || s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(90 * time.Second):
		s.Kill()
		s.t.Fatalf("wren did not stop within 90s of SIGTERM\n%s", s.LogTail(40))
	}
	if s.err != nil {
		s.t.Fatalf("wren exited with %v after SIGTERM\n%s", s.err, s.LogTail(40))
	}
}

// Kill sends SIGKILL to the whole process group and waits for it.
func (s *Server) Kill() {
	if s.cmd == nil || s.exited() {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// Restart stops the server cleanly and starts it again, waiting until ready.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
	s.WaitReady(3 * time.Minute)
}

// Kubectl runs `wren kubectl` against this server and returns combined output.
func (s *Server) Kubectl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(s.t), append([]string{"kubectl"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// KubectlStdin is Kubectl with input on standard input (for apply -f -).
func (s *Server) KubectlStdin(input string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(s.t), append([]string{"kubectl"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Crictl runs `wren crictl` against this node's containerd.
func (s *Server) Crictl(args ...string) (string, error) {
	cmd := exec.Command(Binary(s.t), append([]string{"crictl"}, args...)...)
	cmd.Env = append(os.Environ(), "WREN_DATA_DIR="+s.DataDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("crictl %v: %w: %s", args, err, stderr.String())
	}
	return string(out), err
}

// Ctr runs `wren ctr` (containerd's ctr, in the k8s.io namespace) against
// this node's containerd.
func (s *Server) Ctr(args ...string) (string, error) {
	cmd := exec.Command(Binary(s.t), append([]string{"ctr"}, args...)...)
	cmd.Env = append(os.Environ(), "WREN_DATA_DIR="+s.DataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("ctr %v: %w: %s", args, err, out)
	}
	return string(out), err
}

// MustKubectl is Kubectl that fails the test on error.
func (s *Server) MustKubectl(args ...string) string {
	s.t.Helper()
	out, err := s.Kubectl(args...)
	if err != nil {
		s.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Client returns a client-go clientset using the admin kubeconfig.
func (s *Server) Client() *kubernetes.Clientset {
	s.t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		s.t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return cs
}

// LogTail returns the last n lines of the server log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return err.Error()
	}
	return tail(string(b), n)
}

func (s *Server) cleanup() {
	if s.cmd != nil && !s.exited() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.Kill()
		}
	}
	if s.t.Failed() {
		s.t.Logf("wren log (%s), last lines:\n%s", s.LogPath, s.LogTail(80))
	}
}

// PID is the running wren process's; 0 when it is not running.
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil || s.exited() {
		return 0
	}
	return s.cmd.Process.Pid
}
