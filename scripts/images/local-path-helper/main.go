// SPDX-License-Identifier: Apache-2.0

// Command local-path-helper creates and deletes the directories behind
// local-path volumes. the local-path provisioner runs it in a helper pod
// (setupCommand/teardownCommand) with -p <dir> -s <size> -m <mode> -a
// create|delete; upstream uses a busybox shell script, which would need an
// image wren cannot build from Go source.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	path := flag.String("p", "", "volume directory")
	action := flag.String("a", "", "create or delete")
	mode := flag.String("m", "Filesystem", "volume mode")
	_ = flag.String("s", "0", "size in bytes (not enforced)")
	flag.Parse()
	if err := run(*path, *action, *mode); err != nil {
		fmt.Fprintln(os.Stderr, "local-path-helper:", err)
		os.Exit(1)
	}
}

func run(path, action, mode string) error {
	if path == "" || !filepath.IsAbs(path) || filepath.Clean(path) == "/" {
		return fmt.Errorf("-p %q: want an absolute volume directory", path)
	}
	if mode != "Filesystem" {
		return fmt.Errorf("volume mode %q is not supported, only Filesystem", mode)
	}
	switch action {
	case "create":
		if err := os.MkdirAll(path, 0o777); err != nil {
			return err
		}
		return os.Chmod(path, 0o777) // MkdirAll is subject to the umask
	case "delete":
		return os.RemoveAll(path)
	default:
		return fmt.Errorf("-a %q: want create or delete", action)
	}
}
