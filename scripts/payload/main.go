// SPDX-License-Identifier: Apache-2.0

// Command payload packs a directory into wren's payload format and appends
// it to a wren binary (see pkg/payload).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/wren-k8s/wren/pkg/payload"
)

func main() {
	src := flag.String("src", "build/payload", "directory to pack")
	bin := flag.String("bin", "bin/wren", "binary to append to")
	flag.Parse()
	packed, err := payload.Pack(*src)
	if err == nil {
		err = payload.Append(*bin, packed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "payload:", err)
		os.Exit(1)
	}
	fmt.Printf("payload: %d bytes appended to %s\n", len(packed), *bin)
}
