// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/kubeconfig"
	"github.com/wren-k8s/wren/pkg/pki"
)

// adminKubeconfig writes the admin kubeconfig once the API is ready, so a
// user's tools never find one that points at a server still starting.
type adminKubeconfig struct {
	path    string
	mode    os.FileMode
	credDir string
	url     string
	certs   pki.Paths
	log     *slog.Logger
}

var _ component.Component = (*adminKubeconfig)(nil)

func (a *adminKubeconfig) Name() string { return "admin-kubeconfig" }

func (a *adminKubeconfig) Start(context.Context) error {
	cert, key := a.certs.Client(pki.ClientAdmin)
	spec := kubeconfig.Spec{Server: a.url, CAFile: a.certs.ServerCA(), CertFile: cert, KeyFile: key, Embed: true}
	if err := kubeconfig.Write(filepath.Join(a.credDir, "admin.kubeconfig"), spec, 0o600); err != nil {
		return err
	}
	if a.path == "" {
		return nil
	}
	// The directory may be shared (/etc/wren); keep it readable like /etc.
	if err := os.MkdirAll(filepath.Dir(a.path), 0o755); err != nil {
		return fmt.Errorf("--write-kubeconfig: %w", err)
	}
	if err := kubeconfig.Write(a.path, spec, a.mode); err != nil {
		return fmt.Errorf("--write-kubeconfig: %w", err)
	}
	a.log.Info("wrote admin kubeconfig", "path", a.path)
	return nil
}

func (a *adminKubeconfig) Ready(context.Context) error { return nil }
func (a *adminKubeconfig) Stop(context.Context) error  { return nil }
