// SPDX-License-Identifier: Apache-2.0

// Command toolbox is a test image's entrypoint with the few tools the add-on
// tests need inside a pod, where there is no shell:
//
//	toolbox sleep                 wait until killed
//	toolbox lookup NAME           print NAME's addresses, one per line, sorted
//	toolbox write FILE CONTENT    write CONTENT to FILE
//	toolbox cat FILE              print FILE
//	toolbox get URL               print the body of an HTTP GET (5 s timeout)
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "toolbox:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: toolbox sleep|lookup NAME|write FILE CONTENT|cat FILE|get URL")
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "sleep":
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		return nil
	case cmd == "lookup" && len(rest) == 1:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupHost(ctx, rest[0])
		if err != nil {
			return err
		}
		sort.Strings(addrs)
		for _, a := range addrs {
			fmt.Println(a)
		}
		return nil
	case cmd == "get" && len(rest) == 1:
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(rest[0])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", rest[0], resp.Status)
		}
		_, err = io.Copy(os.Stdout, resp.Body)
		return err
	case cmd == "write" && len(rest) == 2:
		return os.WriteFile(rest[0], []byte(rest[1]), 0o644)
	case cmd == "cat" && len(rest) == 1:
		b, err := os.ReadFile(rest[0])
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(b)
		return err
	}
	return fmt.Errorf("bad arguments %q", args)
}
