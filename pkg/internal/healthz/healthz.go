// SPDX-License-Identifier: Apache-2.0

// Package healthz polls the health endpoints of the components wren runs
// (/readyz, /healthz) and turns a failure into an error naming the failing
// checks.
package healthz

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/tlsroots"
	"github.com/wren-k8s/wren/pkg/pki"
)

// Probe GETs a health endpoint and turns anything but 200 into an error
// listing the failing checks.
type Probe struct {
	url    string
	client *http.Client
}

// NewAPIServer probes the apiserver, verifying it against the server CA and
// authenticating as the given client identity.
func NewAPIServer(url string, certs pki.Paths, client string) (*Probe, error) {
	roots := tlsroots.File(certs.ServerCA()) // re-read: the CA may be rotated
	if _, err := roots(); err != nil {
		return nil, err
	}
	certFile, keyFile := certs.Client(client)
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return nil, err
	}
	// Read at each handshake (the probe keeps no connection open): a
	// renewed certificate is used as soon as it is written.
	getCert := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		return &cert, err
	}
	cfg := tlsroots.Config(roots)
	cfg.GetClientCertificate = getCert
	return probeWith(url, cfg), nil
}

// NewLoopbackTLS probes a component's own health endpoint on loopback. The
// controller-manager and scheduler serve it with a self-signed certificate
// and without authentication, so there is nothing to verify against.
func NewLoopbackTLS(port int, path string) *Probe {
	url := fmt.Sprintf("https://127.0.0.1:%d%s", port, path)
	return probeWith(url, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // loopback health check
}

// NewHTTP probes a plain-HTTP endpoint (the kubelet's and kube-proxy's on loopback).
func NewHTTP(url string) *Probe { return probeWith(url, nil) }

func probeWith(url string, tc *tls.Config) *Probe {
	return &Probe{url: url, client: &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true},
	}}
}

// Check returns nil when the endpoint answers 200.
func (p *Probe) Check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var failing []string
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "[-]") {
			failing = append(failing, strings.TrimPrefix(strings.Fields(line)[0], "[-]"))
		}
	}
	if len(failing) > 0 {
		return fmt.Errorf("%s: %d, failing: %s", p.url, resp.StatusCode, strings.Join(failing, ", "))
	}
	return fmt.Errorf("%s: %d %s", p.url, resp.StatusCode, strings.TrimSpace(string(body)))
}
