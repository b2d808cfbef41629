// SPDX-License-Identifier: Apache-2.0

// Package nodecert names the certificates every node holds and what each one
// certifies. The server's own node and a joining agent get the same set, so
// both signers (in-process and the supervisor) read it from here.
package nodecert

import (
	"net/netip"

	"github.com/wren-k8s/wren/pkg/pki"
)

// ControllerUser is the identity of each node's own controllers (flannel,
// the agent's load balancer).
const ControllerUser = "system:wren-controller"

// Kind names one of a node's certificates.
type Kind string

// The node's certificates.
const (
	KubeletClient  Kind = "kubelet-client"  // system:node:<name>, towards the API
	KubeletServing Kind = "kubelet-serving" // the kubelet's port 10250
	KubeProxy      Kind = "kube-proxy"      // system:kube-proxy
	Controller     Kind = "controller"      // system:wren-controller (flannel)
)

// Kinds lists every node certificate.
var Kinds = []Kind{KubeletClient, KubeletServing, KubeProxy, Controller}

// Leaf is what one node certificate certifies and which CA signs it.
type Leaf struct {
	Kind Kind
	// ServerCA is true for certificates signed by the server CA (serving
	// certificates), false for the client CA.
	ServerCA bool
	Spec     pki.LeafSpec
}

// Leaves returns the certificates of the node name with the given IPs.
func Leaves(name string, ips []netip.Addr) []Leaf {
	return []Leaf{
		{Kind: KubeletClient, Spec: pki.LeafSpec{CommonName: "system:node:" + name, Orgs: []string{"system:nodes"}}},
		{Kind: KubeletServing, ServerCA: true, Spec: pki.LeafSpec{CommonName: name, DNS: []string{name, "localhost"}, IPs: ips, Server: true}},
		{Kind: KubeProxy, Spec: pki.LeafSpec{CommonName: "system:kube-proxy"}},
		{Kind: Controller, Spec: pki.LeafSpec{CommonName: ControllerUser}},
	}
}

// NodeName returns the node a kubelet client identity belongs to, or "" when
// user is not one.
func NodeName(user string, groups []string) string {
	const prefix = "system:node:"
	if len(user) <= len(prefix) || user[:len(prefix)] != prefix {
		return ""
	}
	for _, g := range groups {
		if g == "system:nodes" {
			return user[len(prefix):]
		}
	}
	return ""
}
