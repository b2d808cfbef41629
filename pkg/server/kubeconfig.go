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
	component.Task
}

var (
	_ component.Component = (*adminKubeconfig)(nil)
	_ component.Exiter    = (*adminKubeconfig)(nil)
)

func (a *adminKubeconfig) Name() string { return "admin-kubeconfig" }

// Start writes the kubeconfigs, then rewrites them whenever the admin
// certificate they embed is renewed.
func (a *adminKubeconfig) Start(ctx context.Context) error {
	if a.path != "" {
		// The directory may be shared (/etc/wren); keep it readable like /etc.
		if err := os.MkdirAll(filepath.Dir(a.path), 0o755); err != nil {
			return fmt.Errorf("--write-kubeconfig: %w", err)
		}
	}
	if err := a.write(); err != nil {
		return err
	}
	a.Go(ctx, func(ctx context.Context) error {
		return pki.EveryRenewInterval(ctx, func() {
			if err := a.write(); err != nil {
				a.log.Error("rewriting the admin kubeconfig failed", "err", err)
			}
		})
	})
	return nil
}

func (a *adminKubeconfig) write() error {
	cert, key := a.certs.Client(pki.ClientAdmin)
	spec := kubeconfig.Spec{Server: a.url, CAFile: a.certs.ServerCA(), CertFile: cert, KeyFile: key, Embed: true}
	if _, err := kubeconfig.Update(filepath.Join(a.credDir, "admin.kubeconfig"), spec, 0o600); err != nil {
		return err
	}
	if a.path == "" {
		return nil
	}
	wrote, err := kubeconfig.Update(a.path, spec, a.mode)
	if err != nil {
		return fmt.Errorf("--write-kubeconfig: %w", err)
	}
	if wrote {
		a.log.Info("wrote admin kubeconfig", "path", a.path)
	}
	return nil
}

func (a *adminKubeconfig) Ready(context.Context) error { return nil }
