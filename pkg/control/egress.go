// SPDX-License-Identifier: Apache-2.0

package control

import (
	"fmt"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/pki"
)

// writeEgressConfig writes the EgressSelectorConfiguration that sends the
// apiserver's "cluster" traffic (kubelets: logs, exec, port-forward; and
// aggregated APIs, webhooks) through the supervisor's HTTP CONNECT handler
// on its own port, which picks a node's tunnel or a direct connection.
func writeEgressConfig(path, url string, certs pki.Paths) error {
	cert, key := certs.Client(pki.ClientKubeAPIServer)
	body := fmt.Sprintf(`apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      tcp:
        url: %s
        tlsConfig:
          caBundle: %s
          clientCert: %s
          clientKey: %s
`, url, certs.ServerCA(), cert, key)
	return atomicfile.Write(path, []byte(body), 0o600)
}
