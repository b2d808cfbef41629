// SPDX-License-Identifier: Apache-2.0

package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rancher/remotedialer"
	"github.com/sirupsen/logrus"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/join"
)

// ClientConfig is what an agent's tunnel needs.
type ClientConfig struct {
	// URL is the server's tunnel endpoint, wss://host:port/v1-wren/connect.
	URL string
	// CAFile verifies the server; CertFile/KeyFile are the kubelet's client identity.
	CAFile, CertFile, KeyFile string
	// NodeIPs are announced to the server; only these (and loopback) on
	// AllowedPorts can be dialed through the tunnel.
	NodeIPs      []netip.Addr
	AllowedPorts []int
	// PodPrefixes, when set (egress modes pod and cluster), returns the pod
	// addresses whose every TCP port may be dialed too.
	PodPrefixes func() []netip.Prefix
}

// Client keeps an agent's tunnel to the server up, reconnecting with
// backoff, and serves the dials the server makes through it.
type Client struct {
	cfg       ClientConfig
	log       *slog.Logger
	connected atomic.Bool
	component.Task
}

var _ component.Component = (*Client)(nil)

// NewClient returns the agent's tunnel component.
func NewClient(cfg ClientConfig, log *slog.Logger) *Client { return &Client{cfg: cfg, log: log} }

// Name implements component.Component.
func (c *Client) Name() string { return "tunnel" }

// Start launches the connect loop.
func (c *Client) Start(ctx context.Context) error {
	// remotedialer logs every attempt and failure through logrus; the loop
	// below says what matters, once.
	logrus.SetLevel(logrus.FatalLevel)
	if _, err := c.tlsConfig(); err != nil {
		return err
	}
	c.Go(ctx, c.run)
	return nil
}

// Ready does not wait for the tunnel: a node whose server is away keeps
// running its pods, and the tunnel comes up when the server does.
func (c *Client) Ready(context.Context) error { return nil }

// Connected reports whether the tunnel is up.
func (c *Client) Connected() bool { return c.connected.Load() }

func (c *Client) tlsConfig() (*tls.Config, error) {
	ca, err := os.ReadFile(c.cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("tunnel: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(c.cfg.CertFile, c.cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tunnel: %w", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func (c *Client) run(ctx context.Context) error {
	headers := http.Header{}
	ips := make([]string, len(c.cfg.NodeIPs))
	for i, ip := range c.cfg.NodeIPs {
		ips[i] = ip.String()
	}
	headers.Set(join.HeaderNodeIPs, strings.Join(ips, ","))
	backoff := time.Second
	down := time.Time{}
	for ctx.Err() == nil {
		tc, err := c.tlsConfig() // re-read: certificates may have been renewed
		if err != nil {
			return err
		}
		dialer := &websocket.Dialer{TLSClientConfig: tc, HandshakeTimeout: 10 * time.Second}
		began := time.Now()
		err = remotedialer.ConnectToProxyWithDialer(ctx, c.cfg.URL, headers, c.allowed, dialer, nil,
			func(context.Context, *remotedialer.Session) error {
				c.connected.Store(true)
				if !down.IsZero() {
					c.log.Info("tunnel to the server is back", "url", c.cfg.URL, "down-for", time.Since(down).Round(time.Second))
				} else {
					c.log.Info("tunnel to the server connected", "url", c.cfg.URL)
				}
				down = time.Time{}
				return nil
			})
		c.connected.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(began) > 30*time.Second {
			backoff = time.Second
		}
		if down.IsZero() {
			down = time.Now()
			c.log.Warn("tunnel to the server is down; pods keep running, retrying", "url", c.cfg.URL, "err", shortErr(err))
		} else {
			c.log.Debug("tunnel retry failed", "err", shortErr(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

// allowed lets the server dial only this node's kubelet ports and, with
// PodPrefixes, its pods.
func (c *Client) allowed(proto, address string) bool {
	if proto != "tcp" {
		return false
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil && c.cfg.PodPrefixes != nil {
		for _, p := range c.cfg.PodPrefixes() {
			if p.Contains(ip.Unmap()) {
				return true
			}
		}
	}
	p, _ := strconv.Atoi(port)
	okPort := false
	for _, allowed := range c.cfg.AllowedPorts {
		okPort = okPort || p == allowed
	}
	ip, err := netip.ParseAddr(host)
	if !okPort || err != nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	for _, own := range c.cfg.NodeIPs {
		if own == ip.Unmap() {
			return true
		}
	}
	return false
}

func shortErr(err error) string {
	if err == nil || errors.Is(err, io.EOF) {
		return "connection closed"
	}
	return err.Error()
}
