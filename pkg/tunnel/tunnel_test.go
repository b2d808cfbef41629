// SPDX-License-Identifier: Apache-2.0

package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/pkg/pki"
)

// hostAddr is a non-loopback address of this machine: the server sends
// loopback dials directly, so the tunnel needs a "node" address.
func hostAddr(t *testing.T) netip.Addr {
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() {
				return ip.Unmap()
			}
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine")
	return netip.Addr{}
}

func TestTunnelDialsOnlyAllowedPorts(t *testing.T) {
	ip := hostAddr(t)
	dir := t.TempDir()
	now := time.Now()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), "test", now)
	require.NoError(t, err)
	serving, servingKey := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	_, err = pki.EnsureLeaf(ca, pki.LeafSpec{CommonName: "srv", IPs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Server: true}, serving, servingKey, now)
	require.NoError(t, err)
	client, clientKey := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key")
	_, err = pki.EnsureLeaf(ca, pki.LeafSpec{CommonName: "system:node:n1", Orgs: []string{"system:nodes"}}, client, clientKey, now)
	require.NoError(t, err)

	// A "kubelet" on the node address, and a port the tunnel must refuse.
	kubelet, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	require.NoError(t, err)
	defer kubelet.Close()
	go func() {
		for {
			c, err := kubelet.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("kubelet"))
			c.Close()
		}
	}()
	kubeletPort := kubelet.Addr().(*net.TCPAddr).Port

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := NewServer(func(r *http.Request) (string, bool) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return "", false
		}
		return strings.TrimPrefix(r.TLS.PeerCertificates[0].Subject.CommonName, "system:node:"), true
	}, log)
	ts := httptest.NewUnstartedServer(srv)
	cert, err := tls.LoadX509KeyPair(serving, servingKey)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	ts.StartTLS()
	defer ts.Close()

	// Without a client certificate the tunnel is refused.
	resp, err := ts.Client().Get(ts.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	c := NewClient(ClientConfig{URL: "wss://" + ts.Listener.Addr().String(), CAFile: filepath.Join(dir, "ca.crt"),
		CertFile: client, KeyFile: clientKey, NodeIPs: []netip.Addr{ip}, AllowedPorts: []int{kubeletPort}}, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, c.Start(ctx))
	defer func() { _ = c.Stop(context.Background()) }()
	require.Eventually(t, func() bool { return c.Connected() && srv.Connected("n1") }, 10*time.Second, 20*time.Millisecond)

	conn, err := srv.Dial(ctx, "tcp", net.JoinHostPort(ip.String(), strconv.Itoa(kubeletPort)))
	require.NoError(t, err)
	b, _ := io.ReadAll(conn)
	conn.Close()
	assert.Equal(t, "kubelet", string(b))

	conn, err = srv.Dial(ctx, "tcp", net.JoinHostPort(ip.String(), "22"))
	if err == nil {
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	assert.Error(t, err, "a port other than the kubelet's is refused by the agent")
}
