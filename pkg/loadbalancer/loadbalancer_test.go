// SPDX-License-Identifier: Apache-2.0

package loadbalancer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer answers each connection with its name and closes it.
func echoServer(t *testing.T, name string) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(name))
			c.Close()
		}
	}()
	return ln.Addr().String(), func() { ln.Close() }
}

func read(t *testing.T, addr string) string {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestFailoverAndPersistedList(t *testing.T) {
	a, stopA := echoServer(t, "a")
	b, stopB := echoServer(t, "b")
	defer stopB()
	state := filepath.Join(t.TempDir(), "lb.json")
	eps := []string{a, b}
	lb := New(Config{Listen: "127.0.0.1:0", Default: a, StateFile: state, RefreshInterval: 50 * time.Millisecond,
		Endpoints: func(context.Context) ([]string, error) { return eps, nil }}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, lb.Start(ctx))
	defer func() { _ = lb.Stop(context.Background()) }()
	addr := lb.ln.Addr().String()
	assert.Equal(t, "a", read(t, addr))
	require.Eventually(t, func() bool { return len(lb.Servers()) == 2 }, 5*time.Second, 20*time.Millisecond)
	stopA() // the preferred server goes away: the next connection fails over
	assert.Equal(t, "b", read(t, addr))
	assert.Equal(t, b, lb.Servers()[0])
	// The list is persisted just after it changes in memory.
	var saved []string
	require.Eventually(t, func() bool {
		raw, err := os.ReadFile(state)
		return err == nil && json.Unmarshal(raw, &saved) == nil && len(saved) == 2
	}, 5*time.Second, 20*time.Millisecond, "server list persisted")
	assert.ElementsMatch(t, []string{a, b}, saved)
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	lb := New(Config{Listen: ln.Addr().String(), Default: "127.0.0.1:1", StateFile: filepath.Join(t.TempDir(), "x")}, slog.Default())
	err = lb.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--lb-server-port")
}
