// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"context"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/wren-k8s/wren/pkg/agent"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/nodecert"
	"github.com/wren-k8s/wren/pkg/nodepassword"
	"github.com/wren-k8s/wren/pkg/pki"
)

// localCredentials issues the server's own node's certificates in-process,
// signed by the server's CAs (a remote agent gets the same set from the
// supervisor instead).
type localCredentials struct {
	certs pki.Paths
	// passwordFile and client register the node's password, so that no
	// agent can take the server's node name.
	passwordFile string
	client       func() (kubernetes.Interface, error)
}

var _ agent.Credentials = localCredentials{}

// Issue implements agent.Credentials.
func (l localCredentials) Issue(ctx context.Context, node agent.NodeIdentity, files agent.Files) error {
	password, err := nodepassword.Ensure(l.passwordFile)
	if err != nil {
		return err
	}
	cs, err := l.client()
	if err != nil {
		return err
	}
	if err := nodepassword.Verify(ctx, cs, node.Name, password); err != nil {
		return err
	}
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
		if _, err := atomicfile.Update(path, pem, 0o644); err != nil {
			return err
		}
	}
	for _, leaf := range nodecert.Leaves(node.Name, node.IPs) {
		ca := clientCA
		if leaf.ServerCA {
			ca = serverCA
		}
		cert, key := files.Cert(leaf.Kind)
		if _, err := pki.EnsureLeaf(ca, leaf.Spec, cert, key, now); err != nil {
			return err
		}
	}
	return nil
}

// CAChanged implements agent.Credentials: the server's bundles are here.
func (l localCredentials) CAChanged(_ context.Context, files agent.Files) bool {
	for src, dst := range map[string]string{l.certs.ServerCA(): files.ServerCA(), l.certs.ClientCA(): files.ClientCA()} {
		a, err1 := os.ReadFile(src)
		b, err2 := os.ReadFile(dst)
		if err1 == nil && (err2 != nil || !bytes.Equal(a, b)) {
			return true
		}
	}
	return false
}
