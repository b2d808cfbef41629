// SPDX-License-Identifier: Apache-2.0

package supervisor

import (
	"context"
	"net/http"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/splice"
)

// proxy serves the apiserver's egress (HTTP CONNECT, see the
// EgressSelectorConfiguration wren writes): it opens the connection to a
// kubelet through that node's tunnel, or directly for this server's own node.
func (s *supervisor) proxy(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "only CONNECT is served here", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	backend, err := s.tunnel.Dial(ctx, "tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		backend.Close()
		http.Error(w, "CONNECT needs HTTP/1.1", http.StatusBadRequest)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		backend.Close()
		return
	}
	if _, err := client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		client.Close()
		backend.Close()
		return
	}
	if n := buf.Reader.Buffered(); n > 0 {
		pending, _ := buf.Reader.Peek(n)
		if _, err := backend.Write(pending); err != nil {
			client.Close()
			backend.Close()
			return
		}
	}
	splice.Conns(client, backend)
}
