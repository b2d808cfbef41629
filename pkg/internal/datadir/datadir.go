// SPDX-License-Identifier: Apache-2.0

// Package datadir claims wren's data directory for one process.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/internal/flock"
)

// Prepare creates the data directory and checks it is writable.
func Prepare(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--data-dir %s: %w", dir, unwrapPath(err))
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("--data-dir %s: not writable: %w", dir, unwrapPath(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// Claim creates the data directory, checks it is writable and locks it.
func Claim(dir string) (*flock.Lock, error) {
	if err := Prepare(dir); err != nil {
		return nil, err
	}
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

// Default is /var/lib/wren for root and ~/.wren otherwise.
func Default() string {
	if os.Geteuid() == 0 {
		return "/var/lib/wren"
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "/tmp"
	}
	return filepath.Join(home, ".wren")
}

// ConfigFile is the config file read when --config is not given.
const ConfigFile = "/etc/wren/config.yaml"
