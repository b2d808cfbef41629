// SPDX-License-Identifier: Apache-2.0

// Package splice joins two connections: what one reads the other writes.
package splice

import (
	"io"
	"net"
)

// Conns copies both ways until either side closes, then closes both and
// returns once both copies ended.
func Conns(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		_, _ = io.CopyBuffer(dst, src, buf)
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	a.Close()
	b.Close()
	<-done
}
