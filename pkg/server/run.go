// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"log/slog"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/internal/datadir"
	"github.com/wren-k8s/wren/pkg/internal/gctune"
	"github.com/wren-k8s/wren/pkg/internal/sdnotify"
	"github.com/wren-k8s/wren/pkg/pki"
	"github.com/wren-k8s/wren/pkg/version"
)

// Run claims the data directory and runs the server's components until ctx
// is cancelled (clean shutdown, nil) or something fails.
func Run(ctx context.Context, cfg *config.Server, log *slog.Logger) error {
	if err := pki.CheckLifetimeEnv(); err != nil {
		return err
	}
	pki.TuneClientReload()
	lock, err := datadir.Claim(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	log.Info("starting wren server", "version", version.Full(), "data-dir", cfg.DataDir,
		"datastore", config.RedactDSN(cfg.Derived.Datastore))
	r := &component.Runner{Log: log, OnReady: func() {
		log.Info("wren server is ready", "kubeconfig", cfg.KubeconfigOutput,
			"try", "wren kubectl get --raw /readyz")
		sdnotify.ReadyLogged(log)
		gctune.AfterStart(log)
	}}
	components, err := Components(cfg, log)
	if err != nil {
		return err
	}
	return r.Run(ctx, components)
}
