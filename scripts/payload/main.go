// SPDX-License-Identifier: Apache-2.0

// Command payload packs a directory into wren's payload format (a tar
// compressed by the zstd tool) and appends it to a binary (see pkg/payload).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/wren-k8s/wren/pkg/payload"
)

func main() {
	src := flag.String("src", "build/payload", "directory to pack")
	bin := flag.String("bin", "bin/wren", "binary to append to")
	level := flag.String("zstd", "-9", "zstd compression options (the window is always --long=27)")
	flag.Parse()
	if err := run(*src, *bin, *level); err != nil {
		fmt.Fprintln(os.Stderr, "payload:", err)
		os.Exit(1)
	}
}

func run(src, bin, level string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(payload.Pack(src, pw)) }()
	var packed bytes.Buffer
	zstd := exec.Command("zstd", append(strings.Fields(level), "--long=27", "-q", "-T0", "-c")...)
	zstd.Stdin, zstd.Stdout, zstd.Stderr = pr, &packed, os.Stderr
	if err := zstd.Run(); err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("zstd %s: %w", level, err)
	}
	if err := payload.Append(bin, packed.Bytes()); err != nil {
		return err
	}
	fmt.Printf("payload: %d bytes (zstd %s) appended to %s\n", packed.Len(), level, bin)
	return nil
}
