//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

// TestServiceManagerNotified starts a server the way systemd's Type=notify
// does (NOTIFY_SOCKET): READY=1 arrives, and only once the API serves, so
// `systemctl start wren` returns when the cluster works.
func TestServiceManagerNotified(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	require.NoError(t, err)
	defer conn.Close()
	s := testutil.NewServer(t)
	s.Env = []string{"NOTIFY_SOCKET=" + sock}
	s.Start()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(3*time.Minute)))
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	require.NoError(t, err, "no notification from wren:\n%s", s.LogTail(30))
	assert.Equal(t, "READY=1", string(buf[:n]))
	out, err := s.Kubectl("get", "--raw", "/readyz")
	require.NoError(t, err, "the API serves when READY=1 arrives")
	assert.Equal(t, "ok", out)
}
