// SPDX-License-Identifier: Apache-2.0

package control

import (
	"fmt"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// writeEgressConfig writes the EgressSelectorConfiguration that sends the
// apiserver's "cluster" traffic (kubelets: logs, exec, port-forward; and
// aggregated APIs, webhooks) to the supervisor's HTTP CONNECT handler on a
// unix socket, which picks a node's tunnel or a direct connection. A socket
// rather than TLS over TCP: the apiserver would load a client certificate
// for it once and never pick up its renewal.
func writeEgressConfig(path, socket string) error {
	body := fmt.Sprintf(`apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: %s
`, socket)
	return atomicfile.Write(path, []byte(body), 0o600)
}
