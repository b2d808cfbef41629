// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"context"
	"os"
	"time"

	"github.com/wren-k8s/wren/pkg/agent"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/pki"
)

// localCredentials issues the server's own node's certificates in-process,
// signed by the server's CAs (a remote agent gets the same files from the
// supervisor instead).
type localCredentials struct{ certs pki.Paths }

var _ agent.Credentials = localCredentials{}

// Issue implements agent.Credentials.
func (l localCredentials) Issue(_ context.Context, node agent.NodeIdentity, files agent.Files) error {
	now := time.Now()
	serverCA, err := pki.LoadOrCreateCA(l.certs.ServerCA(), l.certs.ServerCAKey(), "wren-server-ca", now)
	if err != nil {
		return err
	}
	clientCA, err := pki.LoadOrCreateCA(l.certs.ClientCA(), l.certs.ClientCAKey(), "wren-client-ca", now)
	if err != nil {
		return err
	}
	for path, pem := range map[string][]byte{files.ServerCA(): serverCA.CertPEM, files.ClientCA(): clientCA.CertPEM} {
		if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, pem) {
			if err := atomicfile.Write(path, pem, 0o644); err != nil {
				return err
			}
		}
	}
	kubeletCert, kubeletKey := files.KubeletClient()
	servingCert, servingKey := files.KubeletServing()
	proxyCert, proxyKey := files.KubeProxy()
	ctlCert, ctlKey := files.Controller()
	leaves := []struct {
		ca        *pki.CA
		spec      pki.LeafSpec
		cert, key string
	}{
		{clientCA, pki.LeafSpec{CommonName: "system:node:" + node.Name, Orgs: []string{"system:nodes"}}, kubeletCert, kubeletKey},
		{serverCA, pki.LeafSpec{CommonName: node.Name, DNS: []string{node.Name, "localhost"}, IPs: node.IPs, Server: true}, servingCert, servingKey},
		{clientCA, pki.LeafSpec{CommonName: "system:kube-proxy"}, proxyCert, proxyKey},
		{clientCA, pki.LeafSpec{CommonName: ControllerUser}, ctlCert, ctlKey},
	}
	for _, l := range leaves {
		if _, err := pki.EnsureLeaf(l.ca, l.spec, l.cert, l.key, now); err != nil {
			return err
		}
	}
	return nil
}
