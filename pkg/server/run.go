// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/internal/flock"
	"github.com/wren-k8s/wren/pkg/version"
)

// Run claims the data directory and runs the server's components until ctx
// is cancelled (clean shutdown, nil) or something fails.
func Run(ctx context.Context, cfg *config.Server, log *slog.Logger) error {
	lock, err := claimDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	log.Info("starting wren server", "version", version.Full(), "data-dir", cfg.DataDir,
		"datastore", config.RedactDSN(cfg.Derived.Datastore))
	r := &component.Runner{Log: log, OnReady: func() {
		log.Info("wren server is ready", "kubeconfig", cfg.KubeconfigOutput,
			"try", "wren kubectl get --raw /readyz")
	}}
	components, err := Components(cfg, log)
	if err != nil {
		return err
	}
	return r.Run(ctx, components)
}

// claimDataDir creates the data directory, checks it is writable and locks it.
func claimDataDir(dir string) (*flock.Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("--data-dir %s: %w", dir, unwrapPath(err))
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return nil, fmt.Errorf("--data-dir %s: not writable: %w", dir, unwrapPath(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	lock, err := flock.Acquire(filepath.Join(dir, "wren.lock"))
	if errors.Is(err, flock.ErrLocked) {
		return nil, fmt.Errorf("--data-dir %s: in use by another wren: %w", dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("--data-dir %s: %w", dir, err)
	}
	return lock, nil
}

// unwrapPath drops the path from an *os.PathError; the caller names it already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
