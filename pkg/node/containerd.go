// SPDX-License-Identifier: Apache-2.0

package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/internal/gctune"
	"github.com/wren-k8s/wren/pkg/registries"
)

// ContainerdConfig is what the containerd component needs.
type ContainerdConfig struct {
	// Root holds images and snapshots (<data-dir>/agent/containerd).
	Root string
	// State holds sockets and task state (/run/wren/containerd).
	State string
	// Socket is the gRPC socket kubelet and the clients use.
	Socket string
	// ConfigPath is where the rendered config.toml goes.
	ConfigPath string
	// LogPath receives containerd's output.
	LogPath string
	// BinDir holds runc, the shim and the CNI plugins (data/current/bin).
	BinDir     string
	CNIConfDir string
	PauseImage string
	Host       HostInfo
	// RegistryDir is containerd's certs.d (<data-dir>/agent/etc/containerd/certs.d),
	// written from Registries (registries.yaml; nil when there is none).
	RegistryDir string
	Registries  *registries.Registries
	// RegistryWarnings are logged at start (what registries.yaml held that
	// wren ignores).
	RegistryWarnings []string
}

// Containerd runs containerd as a child process of wren (the same binary,
// re-executed as "wren containerd"), so that it, and the shims it starts,
// outlive a restart of wren: running pods are not touched.
type Containerd struct {
	cfg      ContainerdConfig
	log      *slog.Logger
	cmd      *exec.Cmd
	done     chan struct{}
	exited   chan error
	stopping atomic.Bool
}

var (
	_ component.Component = (*Containerd)(nil)
	_ component.Exiter    = (*Containerd)(nil)
)

// NewContainerd returns the containerd component.
func NewContainerd(cfg ContainerdConfig, log *slog.Logger) *Containerd {
	return &Containerd{cfg: cfg, log: log, exited: make(chan error, 1)}
}

// Name implements component.Component.
func (c *Containerd) Name() string { return "containerd" }

func (c *Containerd) pidFile() string { return filepath.Join(c.cfg.State, "containerd.pid") }

// Start renders the config, stops a containerd left by a killed wren, and
// starts a new one.
func (c *Containerd) Start(context.Context) error {
	for _, dir := range []string{c.cfg.Root, c.cfg.State, filepath.Dir(c.cfg.LogPath)} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(c.cfg.ConfigPath, []byte(RenderContainerdConfig(c.cfg)), 0o600); err != nil {
		return fmt.Errorf("containerd config: %w", err)
	}
	if err := registries.WriteHostsDir(c.cfg.RegistryDir, c.cfg.Registries.HostsFiles()); err != nil {
		return fmt.Errorf("containerd registry hosts: %w", err)
	}
	for _, w := range c.cfg.RegistryWarnings {
		c.log.Warn("registries.yaml", "warning", w)
	}
	// crictl's config, for `wren crictl`.
	crictl := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\n", c.cfg.Socket, c.cfg.Socket)
	if err := atomicfile.Write(filepath.Join(filepath.Dir(filepath.Dir(c.cfg.ConfigPath)), "crictl.yaml"), []byte(crictl), 0o644); err != nil {
		return err
	}
	if err := c.stopStale(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(c.cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "containerd", "--config", c.cfg.ConfigPath)
	cmd.Env = append(append(os.Environ(), "PATH="+c.cfg.BinDir+":"+os.Getenv("PATH")), gctune.ChildEnv()...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: a signal to wren's group leaves it and the pods alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start containerd: %w", err)
	}
	_ = os.WriteFile(c.pidFile(), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	c.cmd, c.done = cmd, make(chan struct{})
	go func() {
		err := cmd.Wait()
		logFile.Close()
		close(c.done)
		if !c.stopping.Load() {
			c.exited <- fmt.Errorf("containerd exited (%v); see %s", err, c.cfg.LogPath)
		}
	}()
	return nil
}

// stopStale ends a containerd still running from a wren that was killed.
// Its shims keep the containers running; the new containerd reconnects.
func (c *Containerd) stopStale() error {
	b, err := os.ReadFile(c.pidFile())
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return nil
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "containerd\x00--config\x00"+c.cfg.ConfigPath) {
		return nil // gone, or the pid was reused by something else
	}
	c.log.Info("stopping containerd left by a previous wren", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return nil
}

// Ready returns nil once containerd's CRI service answers. After a restart
// with running pods, containerd serves its own API well before CRI has
// recovered them, and the kubelet gives up on a CRI that is not ready.
func (c *Containerd) Ready(ctx context.Context) error {
	conn, err := grpc.NewClient("unix://"+c.cfg.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = runtimeapi.NewRuntimeServiceClient(conn).Version(ctx, &runtimeapi.VersionRequest{})
	return err
}

// Exited implements component.Exiter.
func (c *Containerd) Exited() <-chan error { return c.exited }

// Stop ends containerd with SIGTERM; the shims and containers keep running.
func (c *Containerd) Stop(ctx context.Context) error {
	if c.cmd == nil {
		return nil
	}
	select {
	case <-c.done:
		return nil
	default:
	}
	c.stopping.Store(true) // an exit now is not a failure
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		_ = os.Remove(c.pidFile())
		return nil
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		return errors.New("containerd did not stop in time; killed")
	}
}
