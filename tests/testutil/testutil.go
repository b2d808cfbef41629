// SPDX-License-Identifier: Apache-2.0

// Package testutil starts the real wren binary (and real databases) for the
// integration and e2e tests, and cleans up after them even when they fail.
package testutil

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// Binary is the wren binary under test: $WREN_BIN, else bin/wren at the repository root.
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("WREN_BIN"); b != "" {
		return b
	}
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", "bin", "wren")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("wren binary not found at %s: run make build (or set WREN_BIN)", bin)
	}
	abs, _ := filepath.Abs(bin)
	pruneToolsDataDir(t, abs)
	return abs
}

// FreePort returns a TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Result is the outcome of a command that ran to completion.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// RunWren runs the wren binary with args to completion (or until timeout)
// and returns its output and exit code.
func RunWren(t testing.TB, timeout time.Duration, env []string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run wren %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		t.Fatalf("wren %v did not finish within %s; stderr:\n%s", args, timeout, tail(errb.String(), 30))
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), ExitCode: code}
}

// Eventually polls cond every interval until it returns nil or timeout passes,
// then fails the test with the last error.
func Eventually(t testing.TB, timeout, interval time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, timeout, err)
		}
		time.Sleep(interval)
	}
}

func tail(s string, lines int) string {
	b := []byte(s)
	n := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n++
			if n > lines {
				return string(b[i+1:])
			}
		}
	}
	return s
}

// itoa is strconv.Itoa, kept short for argument lists.
func itoa(i int) string { return strconv.Itoa(i) }

// Run runs a host command and fails the test if it fails; it returns stdout.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}
