// SPDX-License-Identifier: Apache-2.0

package flock

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecondAcquireFails(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lock")
	l, err := Acquire(path)
	require.NoError(t, err)
	_, err = Acquire(path) // a second descriptor conflicts even in one process
	require.ErrorIs(t, err, ErrLocked)
	require.ErrorContains(t, err, "pid")
	l.Release()
	l2, err := Acquire(path)
	require.NoError(t, err)
	l2.Release()
}
