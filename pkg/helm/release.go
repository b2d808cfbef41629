// SPDX-License-Identifier: Apache-2.0

package helm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// releaser installs, upgrades and uninstalls releases with Helm's SDK,
// storing release state in Secrets like the helm command does.
type releaser struct {
	kubeconfig string
	cacheDir   string
	log        *slog.Logger
}

func (r *releaser) config(namespace string) (*action.Configuration, error) {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &r.kubeconfig
	flags.Namespace = &namespace
	flags.CacheDir = &r.cacheDir
	cfg := new(action.Configuration)
	debug := func(format string, v ...any) { r.log.Debug(fmt.Sprintf(format, v...)) }
	if err := cfg.Init(flags, namespace, "secret", debug); err != nil {
		return nil, err
	}
	return cfg, nil
}

// deployment is what to release.
type deployment struct {
	name, namespace string
	createNamespace bool
	chart           *chart.Chart
	values          map[string]any
	timeout         time.Duration
	// reinstall allows replacing a release that never deployed or was left
	// half-done (failurePolicy reinstall).
	reinstall bool
}

// deploy installs the release, or upgrades it when it exists.
func (r *releaser) deploy(ctx context.Context, d deployment) (*release.Release, error) {
	cfg, err := r.config(d.namespace)
	if err != nil {
		return nil, err
	}
	current, err := action.NewGet(cfg).Run(d.name)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
		return r.install(ctx, cfg, d)
	case err != nil:
		return nil, err
	}
	if broken(current.Info.Status) && !hasDeployed(cfg, d.name) {
		if !d.reinstall {
			return nil, fmt.Errorf("release %s is %s and failurePolicy is abort: fix or uninstall it by hand", d.name, current.Info.Status)
		}
		r.log.Info("replacing a release that never deployed", "release", d.name, "status", current.Info.Status)
		if _, err := action.NewUninstall(cfg).Run(d.name); err != nil {
			return nil, fmt.Errorf("uninstall %s before reinstalling: %w", d.name, err)
		}
		return r.install(ctx, cfg, d)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace, up.Timeout = d.namespace, d.timeout
	return up.RunWithContext(ctx, d.name, d.chart, d.values)
}

func (r *releaser) install(ctx context.Context, cfg *action.Configuration, d deployment) (*release.Release, error) {
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace, in.CreateNamespace, in.Timeout = d.name, d.namespace, d.createNamespace, d.timeout
	return in.RunWithContext(ctx, d.chart, d.values)
}

// uninstall removes a release; a missing one is not an error.
func (r *releaser) uninstall(name, namespace string) error {
	cfg, err := r.config(namespace)
	if err != nil {
		return err
	}
	_, err = action.NewUninstall(cfg).Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	return err
}

func broken(s release.Status) bool {
	switch s {
	case release.StatusFailed, release.StatusPendingInstall, release.StatusPendingUpgrade,
		release.StatusPendingRollback, release.StatusUninstalling:
		return true
	}
	return false
}

func hasDeployed(cfg *action.Configuration, name string) bool {
	history, err := action.NewHistory(cfg).Run(name)
	if err != nil {
		return false
	}
	for _, rel := range history {
		if rel.Info.Status == release.StatusDeployed || rel.Info.Status == release.StatusSuperseded {
			return true
		}
	}
	return false
}
