// SPDX-License-Identifier: Apache-2.0

// Package join is how a node joins a wren server: the supervisor's routes
// and messages, and the client an agent uses. The agent trusts the server's CA
// only when its hash matches the one pinned in the join token.
package join

import "github.com/wren-k8s/wren/pkg/nodecert"

// The supervisor's routes on the API port.
const (
	PathCACerts   = "/cacerts"            // the CA bundle, unauthenticated (pinned by the token)
	PathConfig    = "/v1-wren/config"     // GET: AgentConfig (token)
	PathNodeCerts = "/v1-wren/node-certs" // POST: CertRequest → CertResponse (token)
	PathReadyz    = "/v1-wren/readyz"     // GET: "ok" once the API serves (token or node certificate)
	PathConnect   = "/v1-wren/connect"    // websocket tunnel (node certificate)
)

// Headers the agent sends when it opens its tunnel.
const (
	HeaderNodeIPs = "X-Wren-Node-Ips" // the node's addresses, comma-separated
)

// AgentConfig is the cluster-wide configuration a node follows.
type AgentConfig struct {
	ClusterCIDR   string `json:"clusterCIDR"`
	ServiceCIDR   string `json:"serviceCIDR"`
	ClusterDNS    string `json:"clusterDNS"`
	ClusterDomain string `json:"clusterDomain"`
	// FlannelBackend is vxlan, host-gw or none.
	FlannelBackend string `json:"flannelBackend"`
	// EgressSelectorMode is what the API reaches through this node's tunnel: agent, pod, cluster or disabled (as k3s names them).
	EgressSelectorMode string `json:"egressSelectorMode"`
}

// CertRequest asks the server to certify a node's keys.
type CertRequest struct {
	Node string   `json:"node"`
	IPs  []string `json:"ips"`
	// Password is the node's own secret: the first machine to register a
	// name owns it (the server keeps only a hash).
	Password string `json:"password"`
	// CSRs holds one PEM certificate request per node certificate.
	CSRs map[nodecert.Kind]string `json:"csrs"`
}

// CertResponse carries the signed certificates and the CA bundles.
type CertResponse struct {
	ServerCA string                   `json:"serverCA"`
	ClientCA string                   `json:"clientCA"`
	Certs    map[nodecert.Kind]string `json:"certs"`
}
