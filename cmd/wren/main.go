// SPDX-License-Identifier: Apache-2.0

// Command wren is a lightweight Kubernetes distribution in one binary.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wren-k8s/wren/pkg/cli"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		cancel() // first signal: orderly shutdown
		<-sigs
		os.Exit(130) // second signal: give up waiting
	}()
	os.Exit(cli.Run(ctx, os.Args, os.Stdout, os.Stderr))
}
