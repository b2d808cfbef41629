// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/join"
	"github.com/wren-k8s/wren/pkg/nodecert"
	"github.com/wren-k8s/wren/pkg/pki"
)

// RemoteCredentials gets a joining node's certificates from its server's
// supervisor: the keys are made here and only certificate requests leave the
// node. While the server is unreachable, certificates still valid are kept,
// so a restarted agent runs its pods without the server.
type RemoteCredentials struct {
	// Client is the pinned supervisor client; nil when the server was
	// unreachable at start (the current certificates must then do).
	Client   *join.Client
	Password string
	Log      *slog.Logger
}

var _ Credentials = RemoteCredentials{}

// Issue implements Credentials.
func (r RemoteCredentials) Issue(ctx context.Context, node NodeIdentity, files Files) error {
	if r.Client == nil {
		return r.useCurrent(node, files, errors.New("server unreachable at start"))
	}
	req := join.CertRequest{Node: node.Name, Password: r.Password, CSRs: map[nodecert.Kind]string{}}
	for _, ip := range node.IPs {
		req.IPs = append(req.IPs, ip.String())
	}
	for _, leaf := range nodecert.Leaves(node.Name, node.IPs) {
		_, key := files.Cert(leaf.Kind)
		csr, err := pki.KeyCSR(key, leaf.Spec.CommonName)
		if err != nil {
			return err
		}
		req.CSRs[leaf.Kind] = string(csr)
	}
	resp, err := r.Client.Certs(ctx, req)
	if errors.Is(err, join.ErrUnreachable) {
		return r.useCurrent(node, files, err)
	}
	if err != nil {
		return err
	}
	writes := map[string]string{files.ServerCA(): resp.ServerCA, files.ClientCA(): resp.ClientCA}
	for _, kind := range nodecert.Kinds {
		cert, _ := files.Cert(kind)
		pem, ok := resp.Certs[kind]
		if !ok {
			return fmt.Errorf("server sent no %s certificate", kind)
		}
		writes[cert] = pem
	}
	for path, pem := range writes {
		if err := atomicfile.Write(path, []byte(pem), 0o644); err != nil {
			return err
		}
	}
	r.Client.Trust([]byte(resp.ServerCA))
	return nil
}

// CAChanged implements Credentials: it compares the server's /cacerts with
// the node's copy. An unreachable server changed nothing.
func (r RemoteCredentials) CAChanged(ctx context.Context, files Files) bool {
	if r.Client == nil {
		return false
	}
	ca, err := r.Client.CACerts(ctx)
	if err != nil {
		return false
	}
	cur, err := os.ReadFile(files.ServerCA())
	return err != nil || !bytes.Equal(ca, cur)
}

// useCurrent accepts the node's existing certificates when they are all
// valid now, so the node runs on while the server is away.
func (r RemoteCredentials) useCurrent(node NodeIdentity, files Files, cause error) error {
	now := time.Now()
	for _, leaf := range nodecert.Leaves(node.Name, node.IPs) {
		cert, _ := files.Cert(leaf.Kind)
		nb, na, err := pki.CertValidity(cert)
		if err != nil {
			return fmt.Errorf("no node certificates to run on and the server cannot sign them: %w", cause)
		}
		if now.Before(nb) || now.After(na) {
			return fmt.Errorf("node certificate %s is not valid at this machine's time %s (valid %s to %s): check the clock",
				cert, now.UTC().Format(time.RFC3339), nb.UTC().Format(time.RFC3339), na.UTC().Format(time.RFC3339))
		}
	}
	for _, f := range []string{files.ServerCA(), files.ClientCA()} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("no CA bundle to run on and the server is unreachable: %w", cause)
		}
	}
	r.Log.Warn("server unreachable: running on the node's current certificates", "err", cause)
	return nil
}
