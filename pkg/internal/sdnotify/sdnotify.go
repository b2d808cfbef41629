// SPDX-License-Identifier: Apache-2.0

// Package sdnotify tells a service manager (systemd's Type=notify) how the
// process is doing, through the datagram socket named by $NOTIFY_SOCKET.
// Without that variable it does nothing.
//
// The variable is taken out of the environment when the process starts:
// kube-apiserver notifies READY=1 on its own as soon as it listens (long
// before the node works) and child processes must not speak for wren.
package sdnotify

import (
	"log/slog"
	"net"
	"os"
)

// States a process announces.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
)

// socket is $NOTIFY_SOCKET as the process started.
var socket = os.Getenv("NOTIFY_SOCKET")

func init() { _ = os.Unsetenv("NOTIFY_SOCKET") }

// Notify sends state to the service manager's socket; it reports whether a
// service manager was there to tell. An abstract socket name starts with '@'.
func Notify(state string) (bool, error) {
	path := socket
	if path == "" {
		return false, nil
	}
	addr := &net.UnixAddr{Name: path, Net: "unixgram"}
	if path[0] == '@' {
		addr.Name = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, err
	}
	return true, nil
}

// ReadyLogged sends Ready and logs the outcome: the node (or control plane)
// serves, so `systemctl start` may return.
func ReadyLogged(log *slog.Logger) {
	if sent, err := Notify(Ready); err != nil {
		log.Warn("could not tell the service manager that wren is ready", "NOTIFY_SOCKET", socket, "err", err)
	} else if sent {
		log.Info("told the service manager that wren is ready")
	}
}
