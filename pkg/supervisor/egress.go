// SPDX-License-Identifier: Apache-2.0

package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/wren-k8s/wren/pkg/component"
)

// EgressListener serves the apiserver's egress (HTTP CONNECT) on a unix
// socket only root can reach. The apiserver loads the TLS settings of a TCP
// egress once, so a renewed client certificate would never be used there;
// the socket needs none.
type EgressListener struct {
	sup    *Supervisor
	path   string
	server *http.Server
	component.Task
}

var (
	_ component.Component = (*EgressListener)(nil)
	_ component.Exiter    = (*EgressListener)(nil)
)

// maxSocketPath is the longest path a unix socket can have.
const maxSocketPath = 107

// Egress returns the component serving the egress socket at path.
func (sup *Supervisor) Egress(path string) *EgressListener {
	return &EgressListener{sup: sup, path: path}
}

// Name implements component.Component.
func (e *EgressListener) Name() string { return "egress" }

// Start listens on the socket (replacing one left by an earlier run).
func (e *EgressListener) Start(ctx context.Context) error {
	if len(e.path) > maxSocketPath {
		return fmt.Errorf("--data-dir: the egress socket %s is longer than %d bytes: use a shorter data dir", e.path, maxSocketPath)
	}
	if err := os.MkdirAll(filepath.Dir(e.path), 0o700); err != nil {
		return err
	}
	if err := os.Remove(e.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	ln, err := net.Listen("unix", e.path)
	if err != nil {
		return fmt.Errorf("egress socket: %w", err)
	}
	if err := os.Chmod(e.path, 0o600); err != nil {
		ln.Close()
		return err
	}
	e.server = &http.Server{Handler: http.HandlerFunc(e.sup.s.proxy), ReadHeaderTimeout: 10 * time.Second}
	e.Go(ctx, func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			_ = e.server.Close()
		}()
		if err := e.server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}

// Ready implements component.Component.
func (e *EgressListener) Ready(context.Context) error { return nil }
