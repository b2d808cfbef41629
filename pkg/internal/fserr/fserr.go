// SPDX-License-Identifier: Apache-2.0

// Package fserr shortens file errors for messages that already name the file.
package fserr

import (
	"errors"
	"io/fs"
)

// Cause returns what went wrong with a file ("no such file or directory")
// without the operation and path a *fs.PathError adds, for a message that
// names the flag and the file itself; other errors come back as they are.
func Cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
