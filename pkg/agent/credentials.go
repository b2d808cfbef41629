// SPDX-License-Identifier: Apache-2.0

// Package agent assembles the components of a node. A node gets its
// credentials through one interface (Credentials): signed in-process by the
// server's CAs when the server runs the node itself, or fetched from a
// server's supervisor when an agent joins remotely.
package agent

import (
	"context"
	"net/netip"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/nodecert"
)

// NodeIdentity is who asks for credentials.
type NodeIdentity struct {
	Name string
	IPs  []netip.Addr
}

// Files names a node's credential files under its tls directory.
type Files struct{ Dir string }

func (f Files) file(name string) string { return filepath.Join(f.Dir, name) }

// ServerCA is the CA the API's serving certificate chains to.
func (f Files) ServerCA() string { return f.file("server-ca.crt") }

// ClientCA is the CA the kubelet trusts for clients (the apiserver).
func (f Files) ClientCA() string { return f.file("client-ca.crt") }

// KubeletClient is the kubelet's identity towards the API (system:node:<name>).
func (f Files) KubeletClient() (string, string) {
	return f.file("client-kubelet.crt"), f.file("client-kubelet.key")
}

// KubeletServing is the kubelet's serving certificate for its port 10250.
func (f Files) KubeletServing() (string, string) {
	return f.file("serving-kubelet.crt"), f.file("serving-kubelet.key")
}

// KubeProxy is kube-proxy's identity (system:kube-proxy).
func (f Files) KubeProxy() (string, string) {
	return f.file("client-kube-proxy.crt"), f.file("client-kube-proxy.key")
}

// Controller is the identity of the node's own controllers, flannel among
// them (system:wren-controller): the Node authorizer lets a kubelet's
// identity read only its own Node, while flannel must watch them all.
func (f Files) Controller() (string, string) {
	return f.file("client-wren-controller.crt"), f.file("client-wren-controller.key")
}

// Cert returns the certificate and key files of one node certificate.
func (f Files) Cert(k nodecert.Kind) (string, string) {
	switch k {
	case nodecert.KubeletClient:
		return f.KubeletClient()
	case nodecert.KubeletServing:
		return f.KubeletServing()
	case nodecert.KubeProxy:
		return f.KubeProxy()
	default:
		return f.Controller()
	}
}

// Credentials issues (or renews) a node's certificates and CA files into files.
type Credentials interface {
	Issue(ctx context.Context, node NodeIdentity, files Files) error
	// CAChanged reports whether the server's CA bundle is no longer the
	// node's copy in files (a CA rotation): the node then asks for
	// certificates of the new CA and the new bundle.
	CAChanged(ctx context.Context, files Files) bool
}
