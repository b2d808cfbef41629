// SPDX-License-Identifier: Apache-2.0

package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNotify(t *testing.T) {
	defer func(s string) { socket = s }(socket)
	assert.Empty(t, os.Getenv("NOTIFY_SOCKET"), "taken out of the environment at start")
	socket = ""
	sent, err := Notify(Ready)
	require.NoError(t, err)
	assert.False(t, sent, "no service manager: nothing sent")

	for name, path := range map[string]string{
		"path":     filepath.Join(t.TempDir(), "notify.sock"),
		"abstract": "@wren-sdnotify-test",
	} {
		t.Run(name, func(t *testing.T) {
			listen := path
			if path[0] == '@' {
				listen = "\x00" + path[1:]
			}
			conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: listen, Net: "unixgram"})
			require.NoError(t, err)
			defer conn.Close()
			socket = path
			sent, err := Notify(Ready)
			require.NoError(t, err)
			assert.True(t, sent)
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 64)
			n, err := conn.Read(buf)
			require.NoError(t, err)
			assert.Equal(t, "READY=1", string(buf[:n]))
		})
	}
	socket = filepath.Join(t.TempDir(), "missing.sock")
	_, err = Notify(Ready)
	assert.Error(t, err, "a socket that is not there is an error")
}
