// SPDX-License-Identifier: Apache-2.0

package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/wren-k8s/wren/pkg/join"
	"github.com/wren-k8s/wren/pkg/nodecert"
	"github.com/wren-k8s/wren/pkg/nodepassword"
	"github.com/wren-k8s/wren/pkg/pki"
)

// nodeCerts signs a joining node's certificate requests with the server's
// CAs, once the node's password owns its name. What each certificate
// certifies comes from nodecert.Leaves, never from the requests.
func (s *supervisor) nodeCerts(w http.ResponseWriter, r *http.Request) {
	var req join.CertRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad certificate request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if msgs := validation.IsDNS1123Subdomain(req.Node); len(msgs) > 0 {
		http.Error(w, fmt.Sprintf("node name %q: %s", req.Node, msgs[0]), http.StatusBadRequest)
		return
	}
	if node, ok := r.Context().Value(certNodeKey{}).(string); ok && node != req.Node {
		http.Error(w, fmt.Sprintf("the certificate of node %q cannot ask for certificates of node %q", node, req.Node), http.StatusForbidden)
		return
	}
	if req.Password == "" {
		http.Error(w, "node password missing", http.StatusBadRequest)
		return
	}
	var ips []netip.Addr
	for _, s := range req.IPs {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			http.Error(w, fmt.Sprintf("node IP %q: %v", s, err), http.StatusBadRequest)
			return
		}
		ips = append(ips, ip)
	}
	cs, err := s.cfg.Client()
	if err != nil {
		http.Error(w, "API client: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := nodepassword.Verify(r.Context(), cs, req.Node, req.Password); err != nil {
		code := http.StatusServiceUnavailable
		if errors.Is(err, nodepassword.ErrTaken) {
			code = http.StatusConflict
		}
		http.Error(w, err.Error(), code)
		return
	}
	now := time.Now()
	serverCA, err := pki.LoadCA(s.cfg.Certs.ServerCA(), s.cfg.Certs.ServerCAKey(), now)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	clientCA, err := pki.LoadCA(s.cfg.Certs.ClientCA(), s.cfg.Certs.ClientCAKey(), now)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp := join.CertResponse{ServerCA: string(serverCA.CertPEM), ClientCA: string(clientCA.CertPEM), Certs: map[nodecert.Kind]string{}}
	for _, leaf := range nodecert.Leaves(req.Node, ips) {
		ca := clientCA
		if leaf.ServerCA {
			ca = serverCA
		}
		csr, ok := req.CSRs[leaf.Kind]
		if !ok {
			http.Error(w, fmt.Sprintf("certificate request %s missing", leaf.Kind), http.StatusBadRequest)
			return
		}
		cert, err := pki.SignCSR(ca, leaf.Spec, []byte(csr), now)
		if err != nil {
			http.Error(w, fmt.Sprintf("certificate request %s: %v", leaf.Kind, err), http.StatusBadRequest)
			return
		}
		resp.Certs[leaf.Kind] = string(cert)
	}
	s.cfg.Log.Info("signed node certificates", "node", req.Node, "ips", ips, "from", r.RemoteAddr)
	writeJSON(w, resp)
}
