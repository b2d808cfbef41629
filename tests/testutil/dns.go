// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"
)

// DNSServer is a tiny authoritative DNS server over UDP, the "upstream
// resolver" of a test node: it answers A queries for its records and
// NXDOMAIN for everything else.
type DNSServer struct {
	records map[string]netip.Addr // fully qualified, lower case, with the trailing dot
	conn    net.PacketConn
	// Queries counts the questions it answered from its records.
	Queries atomic.Int64
}

// StartDNSServer listens on addr (ip:port). The address need not exist yet
// (IP_FREEBIND): a node's bridge address appears only once the node runs.
// The test's cleanup stops it.
func StartDNSServer(t testing.TB, addr string, records map[string]string) *DNSServer {
	t.Helper()
	s := &DNSServer{records: map[string]netip.Addr{}}
	for name, ip := range records {
		s.records[strings.ToLower(strings.TrimSuffix(name, "."))+"."] = netip.MustParseAddr(ip)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := lc.ListenPacket(context.Background(), "udp4", addr)
	if err != nil {
		t.Fatalf("test DNS server on %s: %v", addr, err)
	}
	s.conn = conn
	t.Cleanup(func() { conn.Close() })
	go s.serve()
	return s
}

func (s *DNSServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, ok := s.answer(buf[:n]); ok {
			_, _ = s.conn.WriteTo(resp, from)
		}
	}
}

func (s *DNSServer) answer(req []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	h.Response, h.Authoritative, h.RecursionAvailable = true, true, true
	ip, known := s.records[strings.ToLower(q.Name.String())]
	if !known {
		h.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, h)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	if known && q.Type == dnsmessage.TypeA {
		s.Queries.Add(1)
		rh := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5}
		if b.AResource(rh, dnsmessage.AResource{A: ip.As4()}) != nil {
			return nil, false
		}
	}
	out, err := b.Finish()
	return out, err == nil
}
