// SPDX-License-Identifier: Apache-2.0

// Package tunnel is the websocket reverse tunnel between agents and the
// server (github.com/rancher/remotedialer): each agent dials out to the
// server and keeps the connection up; the apiserver then reaches that node's
// kubelet through it, so the server never needs to open a connection to a node.
package tunnel

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rancher/remotedialer"
	corev1 "k8s.io/api/core/v1"

	"github.com/wren-k8s/wren/pkg/join"
)

// NodeAuthenticator returns the node a request's client certificate belongs
// to, or ok=false.
type NodeAuthenticator func(r *http.Request) (node string, ok bool)

// Server accepts agents' tunnels and dials through them.
type Server struct {
	rd    *remotedialer.Server
	authn NodeAuthenticator
	log   *slog.Logger

	mu sync.Mutex
	// nodes maps each address a connected (or once connected) agent
	// announced to its node name.
	nodes map[netip.Addr]string
	// podRoutes, when set (egress modes pod and cluster), finds each node's
	// pod CIDRs; routes caches them, as of routesAt. routesMu guards them
	// (a refresh calls the API: it must not hold up other dials).
	routesMu  sync.Mutex
	podRoutes PodRoutes
	routes    map[string][]netip.Prefix
	routesAt  time.Time
}

// PodRoutes returns every node's pod CIDRs, as the API assigned them.
type PodRoutes func(ctx context.Context) (map[string][]netip.Prefix, error)

// How long pod routes are cached, and how soon a miss may refresh them.
const (
	routesTTL     = 30 * time.Second
	routesMissTTL = 2 * time.Second
)

// NewServer returns a tunnel server that accepts the nodes authn accepts.
func NewServer(authn NodeAuthenticator, log *slog.Logger) *Server {
	s := &Server{authn: authn, log: log, nodes: map[netip.Addr]string{}}
	s.rd = remotedialer.New(func(r *http.Request) (string, bool, error) {
		node, ok := authn(r)
		return node, ok, nil
	}, func(w http.ResponseWriter, _ *http.Request, code int, err error) {
		http.Error(w, err.Error(), code)
	})
	return s
}

// ServeHTTP serves an agent's tunnel (the websocket at join.PathConnect)
// until it closes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	node, ok := s.authn(r)
	if !ok {
		http.Error(w, "tunnel: a node client certificate is required", http.StatusUnauthorized)
		return
	}
	var ips []netip.Addr
	for _, f := range strings.Split(r.Header.Get(join.HeaderNodeIPs), ",") {
		if ip, err := netip.ParseAddr(strings.TrimSpace(f)); err == nil && !ip.IsLoopback() && !ip.IsUnspecified() {
			ips = append(ips, ip)
		}
	}
	ips = s.claim(node, ips)
	s.log.Info("agent tunnel connected", "node", node, "ips", ips)
	start := time.Now()
	s.rd.ServeHTTP(w, r)
	s.log.Info("agent tunnel closed", "node", node, "after", time.Since(start).Round(time.Second))
}

// claim records the addresses node announced, except those another node
// with a connected tunnel holds: a node cannot take over another's traffic
// by announcing its address. It returns the addresses node now holds.
func (s *Server) claim(node string, ips []netip.Addr) []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ip, owner := range s.nodes {
		if owner == node { // what it announced before (its address may have changed)
			delete(s.nodes, ip)
		}
	}
	var got []netip.Addr
	for _, ip := range ips {
		if owner, ok := s.nodes[ip]; ok && owner != node && s.rd.HasSession(owner) {
			s.log.Warn("agent announced an address another connected node holds: ignored", "node", node, "ip", ip, "holder", owner)
			continue
		}
		s.nodes[ip] = node
		got = append(got, ip)
	}
	return got
}

// NodePodCIDRs parses a Node's assigned pod CIDRs (malformed ones skipped).
func NodePodCIDRs(n *corev1.Node) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range n.Spec.PodCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// RoutePods makes Dial send connections to pod IPs through the tunnel of the
// node that runs the pod (egress modes pod and cluster).
func (s *Server) RoutePods(routes PodRoutes) {
	s.routesMu.Lock()
	defer s.routesMu.Unlock()
	s.podRoutes = routes
}

// Dial opens a connection for the apiserver: through the owning agent's
// tunnel when addr is an address an agent announced (or, with RoutePods, an
// IP in a connected agent's pod CIDR), directly otherwise (this server's own
// node, its pods and services it can route to).
func (s *Server) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var node string
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		s.mu.Lock()
		node = s.nodes[ip]
		s.mu.Unlock()
		if node == "" {
			if podNode := s.podNode(ctx, ip); podNode != "" && s.rd.HasSession(podNode) {
				return s.rd.Dialer(podNode)(ctx, network, addr)
			}
		}
	}
	if node == "" {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	if !s.rd.HasSession(node) {
		return nil, fmt.Errorf("node %s (%s): its agent's tunnel is not connected", node, addr)
	}
	return s.rd.Dialer(node)(ctx, network, addr)
}

// podNode returns the node whose pod CIDR holds ip, or "" (no pod routing,
// or no such node).
func (s *Server) podNode(ctx context.Context, ip netip.Addr) string {
	s.routesMu.Lock()
	defer s.routesMu.Unlock()
	if s.podRoutes == nil {
		return ""
	}
	find := func() string {
		for node, cidrs := range s.routes {
			for _, c := range cidrs {
				if c.Contains(ip) {
					return node
				}
			}
		}
		return ""
	}
	age := time.Since(s.routesAt)
	if node := find(); node != "" && age < routesTTL {
		return node
	}
	if age < routesMissTTL {
		return ""
	}
	routes, err := s.podRoutes(ctx)
	if err != nil {
		s.log.Warn("pod routes unavailable: dialing directly", "err", err)
		return find()
	}
	s.routes, s.routesAt = routes, time.Now()
	return find()
}

// Connected reports whether node has a tunnel up.
func (s *Server) Connected(node string) bool { return s.rd.HasSession(node) }
