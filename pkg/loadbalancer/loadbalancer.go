// SPDX-License-Identifier: Apache-2.0

// Package loadbalancer is the client-side load balancer every agent runs on
// 127.0.0.1:6444: the node's kubelet, kube-proxy and flannel talk to it, and
// it forwards each connection to the first server that answers. Its server
// list starts from --server, follows the API's own endpoints (the
// default/kubernetes EndpointSlices) and is persisted, so the node keeps
// working when a server address goes away.
package loadbalancer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/internal/splice"
)

// DefaultPort is the agent's load balancer port (--lb-server-port).
const DefaultPort = 6444

// dialTimeout bounds the attempt to reach one server.
const dialTimeout = 3 * time.Second

// Config is the load balancer's configuration.
type Config struct {
	// Listen is the local address, 127.0.0.1:6444.
	Listen string
	// Default is the server from --server (host:port); it is always kept.
	Default string
	// StateFile persists the server list across restarts.
	StateFile string
	// Endpoints, if set, returns the API's current endpoints (host:port);
	// it is polled every RefreshInterval.
	Endpoints       func(context.Context) ([]string, error)
	RefreshInterval time.Duration
}

// LB is the load balancer component.
type LB struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener

	mu      sync.Mutex
	servers []string
	active  map[net.Conn]struct{}
	component.Task
}

var _ component.Component = (*LB)(nil)

// New returns the load balancer component.
func New(cfg Config, log *slog.Logger) *LB {
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = 30 * time.Second
	}
	return &LB{cfg: cfg, log: log, active: map[net.Conn]struct{}{}}
}

// Name implements component.Component.
func (l *LB) Name() string { return "load-balancer" }

// Servers returns the current server list, preferred first.
func (l *LB) Servers() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.servers)
}

// Start loads the persisted list, listens and serves in the background.
func (l *LB) Start(ctx context.Context) error {
	l.servers = []string{l.cfg.Default}
	if b, err := os.ReadFile(l.cfg.StateFile); err == nil {
		var saved []string
		if json.Unmarshal(b, &saved) == nil {
			l.servers = merge(l.cfg.Default, saved)
		}
	}
	ln, err := net.Listen("tcp", l.cfg.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("--lb-server-port: %s already in use", l.cfg.Listen)
		}
		return fmt.Errorf("load balancer: %w", err)
	}
	l.ln = ln
	l.log.Info("client load balancer listening", "address", l.cfg.Listen, "servers", l.servers)
	l.Go(ctx, l.serve)
	return nil
}

// Ready implements component.Component: it serves once listening.
func (l *LB) Ready(context.Context) error { return nil }

// Stop closes the listener and every forwarded connection.
func (l *LB) Stop(ctx context.Context) error {
	if l.ln != nil {
		l.ln.Close()
	}
	l.mu.Lock()
	for c := range l.active {
		c.Close()
	}
	l.mu.Unlock()
	return l.Task.Stop(ctx)
}

func (l *LB) serve(ctx context.Context) error {
	if l.cfg.Endpoints != nil {
		go l.follow(ctx)
	}
	go func() { <-ctx.Done(); l.ln.Close() }()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("load balancer: %w", err)
		}
		go l.forward(ctx, c)
	}
}

// forward connects c to the first server that answers, preferring the one
// that answered last.
func (l *LB) forward(ctx context.Context, c net.Conn) {
	var backend net.Conn
	var errs []error
	for _, s := range l.Servers() {
		d := net.Dialer{Timeout: dialTimeout}
		b, err := d.DialContext(ctx, "tcp", s)
		if err == nil {
			backend = b
			l.prefer(s)
			break
		}
		errs = append(errs, err)
	}
	if backend == nil {
		l.log.Debug("no server reachable", "err", errors.Join(errs...))
		c.Close()
		return
	}
	l.track(c, backend, true)
	defer l.track(c, backend, false)
	splice.Conns(c, backend)
}

func (l *LB) track(a, b net.Conn, add bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if add {
		l.active[a], l.active[b] = struct{}{}, struct{}{}
	} else {
		delete(l.active, a)
		delete(l.active, b)
	}
}

// prefer moves s to the front of the list.
func (l *LB) prefer(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.servers) > 0 && l.servers[0] == s {
		return
	}
	i := slices.Index(l.servers, s)
	if i < 0 {
		return
	}
	l.servers = append([]string{s}, slices.Delete(slices.Clone(l.servers), i, i+1)...)
	l.log.Info("client load balancer switched server", "server", s)
}

// follow keeps the list equal to the API's endpoints plus the default.
func (l *LB) follow(ctx context.Context) {
	t := time.NewTicker(l.cfg.RefreshInterval)
	defer t.Stop()
	for {
		if eps, err := l.cfg.Endpoints(ctx); err == nil && len(eps) > 0 {
			l.setEndpoints(eps)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (l *LB) setEndpoints(eps []string) {
	l.mu.Lock()
	current := l.servers
	next := merge(l.cfg.Default, eps)
	// Keep the preferred server first while it is still listed.
	if len(current) > 0 && slices.Contains(next, current[0]) {
		i := slices.Index(next, current[0])
		next = append([]string{current[0]}, slices.Delete(next, i, i+1)...)
	}
	changed := !slices.Equal(sorted(current), sorted(next))
	l.servers = next
	l.mu.Unlock()
	if !changed {
		return
	}
	l.log.Info("client load balancer servers updated", "servers", next)
	if b, err := json.Marshal(next); err == nil {
		if err := atomicfile.Write(l.cfg.StateFile, b, 0o600); err != nil {
			l.log.Warn("could not persist the server list", "file", l.cfg.StateFile, "err", err)
		}
	}
}

// merge returns list with def appended if missing, duplicates removed.
func merge(def string, list []string) []string {
	out := []string{}
	for _, s := range append(slices.Clone(list), def) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
