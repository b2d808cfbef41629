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

// tunnelServer starts a tunnel server (routing pods with routes, when set)
// whose nodes are named by their certificates' common names.
type tunnelServer struct {
	*Server
	url string
	dir string
	ca  *pki.CA
}

func startTunnelServer(t *testing.T, routes PodRoutes) *tunnelServer {
	dir := t.TempDir()
	now := time.Now()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), "test", now)
	require.NoError(t, err)
	serving, servingKey := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	_, err = pki.EnsureLeaf(ca, pki.LeafSpec{CommonName: "srv", IPs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Server: true}, serving, servingKey, now)
	require.NoError(t, err)
	srv := NewServer(func(r *http.Request) (string, bool) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return "", false
		}
		return strings.TrimPrefix(r.TLS.PeerCertificates[0].Subject.CommonName, "system:node:"), true
	}, quietLog())
	if routes != nil {
		srv.RoutePods(routes)
	}
	ts := httptest.NewUnstartedServer(srv)
	cert, err := tls.LoadX509KeyPair(serving, servingKey)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &tunnelServer{Server: srv, url: ts.URL, dir: dir, ca: ca}
}

// connect starts the tunnel client of node at ip, with edit applied to its
// configuration, and waits until the tunnel is up.
func (ts *tunnelServer) connect(t *testing.T, node string, ip netip.Addr, edit func(*ClientConfig)) {
	client, clientKey := filepath.Join(ts.dir, node+".crt"), filepath.Join(ts.dir, node+".key")
	_, err := pki.EnsureLeaf(ts.ca, pki.LeafSpec{CommonName: "system:node:" + node, Orgs: []string{"system:nodes"}}, client, clientKey, time.Now())
	require.NoError(t, err)
	cfg := ClientConfig{URL: "wss://" + strings.TrimPrefix(ts.url, "https://"), CAFile: filepath.Join(ts.dir, "ca.crt"),
		CertFile: client, KeyFile: clientKey, NodeIPs: []netip.Addr{ip}}
	edit(&cfg)
	c := NewClient(cfg, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, c.Start(ctx))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	require.Eventually(t, func() bool { return c.Connected() && ts.Connected(node) }, 10*time.Second, 20*time.Millisecond)
}

// tunnelPair is a server and node n1's client.
func tunnelPair(t *testing.T, ip netip.Addr, routes PodRoutes, edit func(*ClientConfig)) (*Server, string) {
	ts := startTunnelServer(t, routes)
	ts.connect(t, "n1", ip, edit)
	return ts.Server, ts.url
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// listen serves "hello" on addr:0 and returns the port.
func listen(t *testing.T, addr string, hello string) int {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(hello))
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// read dials addr through srv and returns what the far end sent.
func read(srv *Server, addr string) (string, error) {
	conn, err := srv.Dial(context.Background(), "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	b, err := io.ReadAll(conn)
	if err == nil && len(b) == 0 {
		err = io.EOF
	}
	return string(b), err
}

func TestTunnelDialsOnlyAllowedPorts(t *testing.T) {
	ip := hostAddr(t)
	kubeletPort := listen(t, ip.String(), "kubelet")
	srv, url := tunnelPair(t, ip, nil, func(c *ClientConfig) { c.AllowedPorts = []int{kubeletPort} })

	// Without a client certificate the tunnel is refused.
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}).Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	got, err := read(srv, net.JoinHostPort(ip.String(), strconv.Itoa(kubeletPort)))
	require.NoError(t, err)
	assert.Equal(t, "kubelet", got)

	_, err = read(srv, net.JoinHostPort(ip.String(), "22"))
	assert.Error(t, err, "a port other than the kubelet's is refused by the agent")
}

// Egress modes pod and cluster: a pod IP in a node's pod CIDR is dialed
// through that node's tunnel, and the agent lets it through only when its
// mode allows pods.
func TestTunnelRoutesPods(t *testing.T) {
	ip := hostAddr(t)
	pod := "127.0.0.5" // a "pod" address: in n1's pod CIDR below, and listenable here
	port := strconv.Itoa(listen(t, pod, "pod"))
	routes := func(context.Context) (map[string][]netip.Prefix, error) {
		return map[string][]netip.Prefix{"n1": {netip.MustParsePrefix("127.0.0.0/24")}}, nil
	}
	podMode, _ := tunnelPair(t, ip, routes, func(c *ClientConfig) {
		c.PodPrefixes = func() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/24")} }
	})
	got, err := read(podMode, net.JoinHostPort(pod, port))
	require.NoError(t, err)
	assert.Equal(t, "pod", got)

	// The same routing to an agent in agent mode: it refuses, which also
	// shows the dial went through the tunnel (directly it would succeed).
	agentMode, _ := tunnelPair(t, ip, routes, func(*ClientConfig) {})
	_, err = read(agentMode, net.JoinHostPort(pod, port))
	assert.Error(t, err, "an agent in agent mode refuses pod dials")

	// Without pod routing (agent mode on the server) the dial is direct.
	direct, _ := tunnelPair(t, ip, nil, func(*ClientConfig) {})
	got, err = read(direct, net.JoinHostPort(pod, port))
	require.NoError(t, err)
	assert.Equal(t, "pod", got)
}

// A node announcing an address another connected node holds does not get
// that node's traffic.
func TestTunnelAddressesCannotBeTakenOver(t *testing.T) {
	ip := hostAddr(t)
	port := listen(t, ip.String(), "kubelet")
	ts := startTunnelServer(t, nil)
	allow := func(c *ClientConfig) { c.AllowedPorts = []int{port} }
	ts.connect(t, "n1", ip, allow)
	ts.connect(t, "n2", ip, func(c *ClientConfig) {}) // would refuse every dial
	got, err := read(ts.Server, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	require.NoError(t, err, "still dialed through n1")
	assert.Equal(t, "kubelet", got)
}
