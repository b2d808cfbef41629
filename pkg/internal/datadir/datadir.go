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

// Claim creates the data directory, checks it is writable and locks it.
func Claim(dir string) (*flock.Lock, error) {
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
