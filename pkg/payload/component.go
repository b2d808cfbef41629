// SPDX-License-Identifier: Apache-2.0

package payload

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/component"
)

// Installer is the component that makes the release this wren runs from
// (extracted by the launcher into <data-dir>/data/<hash>/) the current one,
// before anything needs runc, the shim, the CNI plugins or the images, and
// prunes older releases. It also links <run-dir>/bin/wren to the wren
// program: the bundled add-on pods (CoreDNS, metrics-server) mount that file
// and run it.
type Installer struct {
	exe, dataDir, linkDir string
	log                   *slog.Logger
}

var _ component.Component = (*Installer)(nil)

// NewInstaller returns the payload component for the wren program at exe
// (<data-dir>/data/<hash>/bin/wren), linked from linkDir/wren.
func NewInstaller(exe, dataDir, linkDir string, log *slog.Logger) *Installer {
	return &Installer{exe: exe, dataDir: dataDir, linkDir: linkDir, log: log}
}

// Name implements component.Component.
func (i *Installer) Name() string { return "payload" }

// Start switches data/current to this release and prunes old ones.
func (i *Installer) Start(context.Context) error {
	if err := Adopt(i.dataDir, Dir(i.exe)); err != nil {
		return err
	}
	if err := os.MkdirAll(i.linkDir, 0o755); err != nil {
		return err
	}
	if err := replaceLink(filepath.Join(i.linkDir, "wren"), i.exe); err != nil {
		return err
	}
	removed, err := Prune(i.dataDir)
	for _, d := range removed {
		i.log.Info("removed the payload of an older release", "dir", d)
	}
	if err != nil {
		i.log.Warn("pruning old payloads failed; they stay", "err", err)
	}
	return nil
}

// Dir is the extracted release a wren program at exe runs from.
func Dir(exe string) string { return filepath.Dir(filepath.Dir(exe)) }

// Ready implements component.Component.
func (i *Installer) Ready(context.Context) error { return nil }

// Stop implements component.Component.
func (i *Installer) Stop(context.Context) error { return nil }
