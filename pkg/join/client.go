// SPDX-License-Identifier: Apache-2.0

package join

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/tlsroots"
	"github.com/wren-k8s/wren/pkg/token"
)

// ErrUnreachable wraps failures to reach the server at all (worth retrying).
var ErrUnreachable = errors.New("server unreachable")

// Client talks to one server's supervisor with a join token, trusting only
// the CA that the token pins.
type Client struct {
	// URL is the server, https://host:port.
	URL   string
	token token.Token
	// CA is the server's CA bundle, as pinned.
	CA    []byte
	roots atomic.Pointer[x509.CertPool]
	http  *http.Client
}

// requestTimeout bounds each request to the supervisor.
const requestTimeout = 15 * time.Second

// Dial downloads the server's CA bundle without trusting it and accepts it
// only if the token pins its hash (a bare secret pins nothing: logged as a
// warning). Errors say what is wrong in one line; ErrUnreachable marks the
// ones worth retrying.
func Dial(ctx context.Context, url string, tok token.Token, log *slog.Logger) (*Client, error) {
	url = strings.TrimSuffix(url, "/")
	insecure := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // verified by hash below
		Proxy:           http.ProxyFromEnvironment,
	}}
	ca, status, peer, err := get(ctx, insecure, url+PathCACerts)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if status != http.StatusOK || !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("--server %s is not a wren server: GET %s answered %d without a CA bundle", url, PathCACerts, status)
	}
	if tok.CAHash == "" {
		log.Warn("the token pins no CA (a bare secret): trusting the server's CA on first use without checking it; use the full W10... token from the server's token file", "server", url, "ca-hash", token.CAHash(ca))
	} else if !tok.PinsBundle(ca) && !chainsTo(peer, tok.PinnedCert(ca)) {
		return nil, fmt.Errorf("--token: the CA of %s does not match the hash in the token: the token is for another cluster (or the server is not who it claims to be)", url)
	}
	return New(url, tok, ca), nil
}

// New returns a client for a server whose CA bundle is already known.
func New(url string, tok token.Token, ca []byte) *Client {
	c := &Client{URL: strings.TrimSuffix(url, "/"), token: tok, CA: ca}
	c.Trust(ca)
	c.http = &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		TLSClientConfig: tlsroots.Config(func() (*x509.CertPool, error) { return c.roots.Load(), nil }),
		Proxy:           http.ProxyFromEnvironment,
	}}
	return c
}

// Trust makes the client verify the server against the CA bundle ca from
// the next connection on: the bundle a CA rotation sent the node.
func (c *Client) Trust(ca []byte) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c.roots.Store(pool)
}

// CACerts fetches the server's current CA bundle over the verified connection.
func (c *Client) CACerts(ctx context.Context) ([]byte, error) {
	b, status, _, err := get(ctx, c.http, c.URL+PathCACerts)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", PathCACerts, status)
	}
	return b, err
}

// UseClientCert makes the client present the node's client certificate
// (re-read at each handshake, so renewals apply): a node that joined before
// is let in by it when its join token has expired or been deleted since.
func (c *Client) UseClientCert(certFile, keyFile string) {
	t := c.http.Transport.(*http.Transport)
	t.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return &tls.Certificate{}, nil // none: the token alone must do
		}
		return &cert, nil
	}
}

// Config fetches the cluster-wide node configuration.
func (c *Client) Config(ctx context.Context) (AgentConfig, error) {
	var out AgentConfig
	return out, c.Call(ctx, http.MethodGet, PathConfig, nil, &out)
}

// Certs asks the server to sign the node's certificate requests.
func (c *Client) Certs(ctx context.Context, req CertRequest) (CertResponse, error) {
	var out CertResponse
	return out, c.Call(ctx, http.MethodPost, PathNodeCerts, req, &out)
}

// Call sends in (JSON, when not nil) to path and decodes the answer into out.
func (c *Client) Call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.token.User, c.token.Secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return unreachable(c.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return unreachable(c.URL, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("--token: rejected by %s: wrong or expired token", c.URL)
	case resp.StatusCode >= 500:
		return fmt.Errorf("%s %s: %d %s: %w", method, path, resp.StatusCode, firstLine(b), ErrUnreachable)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s: %s", c.URL, firstLine(b))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: bad answer: %w", method, path, err)
	}
	return nil
}

// get fetches url; it also returns the certificates the server presented.
func get(ctx context.Context, hc *http.Client, url string) ([]byte, int, []*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("--server: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, nil, unreachable(url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, nil, unreachable(url, err)
	}
	var peer []*x509.Certificate
	if resp.TLS != nil {
		peer = resp.TLS.PeerCertificates
	}
	return b, resp.StatusCode, peer, nil
}

// chainsTo reports whether the serving certificate the server presented
// (with the chain it sent) verifies against ca: then the bundle it served
// is its own, even though the token pins only one CA of it (a token made
// before a CA rotation). Nothing is trusted on a nil ca.
func chainsTo(peer []*x509.Certificate, ca *x509.Certificate) bool {
	if ca == nil {
		return false
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	// No ServerName: only where the chain leads matters here, not the name.
	return tlsroots.Verify(tls.ConnectionState{PeerCertificates: peer}, roots) == nil
}

// unreachable marks transport errors as ErrUnreachable, except TLS failures
// that mean the far end does not speak HTTPS at all.
func unreachable(url string, err error) error {
	var certErr x509.CertificateInvalidError
	if errors.As(err, &certErr) && certErr.Reason == x509.Expired {
		return fmt.Errorf("%s: its certificate is not valid at this machine's time (%s): check the clock: %w",
			url, time.Now().UTC().Format(time.RFC3339), err)
	}
	var opErr *net.OpError
	var netErr net.Error
	if errors.As(err, &opErr) || (errors.As(err, &netErr) && netErr.Timeout()) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%s: %w: %w", url, ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", url, err)
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
