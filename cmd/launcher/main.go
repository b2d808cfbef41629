// SPDX-License-Identifier: Apache-2.0

// Command launcher is the wren binary users download (bin/wren): it extracts
// the release appended to it and runs the wren program inside (cmd/wren).
package main

import (
	"fmt"
	"os"

	"github.com/wren-k8s/wren/pkg/launcher"
)

func main() {
	self, err := os.Executable()
	if err == nil {
		err = launcher.Run(self, os.Args, os.Environ())
	}
	fmt.Fprintln(os.Stderr, "wren:", err)
	os.Exit(1)
}
