// SPDX-License-Identifier: Apache-2.0

package payload

import (
	"context"
	"log/slog"
	"time"

	"github.com/wren-k8s/wren/pkg/component"
)

// Extractor is the component that extracts the running binary's payload
// before anything needs runc, the shim or the CNI plugins.
type Extractor struct {
	exe, dataDir string
	log          *slog.Logger
}

var _ component.Component = (*Extractor)(nil)

// NewExtractor returns the payload component for the binary at exe.
func NewExtractor(exe, dataDir string, log *slog.Logger) *Extractor {
	return &Extractor{exe: exe, dataDir: dataDir, log: log}
}

// Name implements component.Component.
func (e *Extractor) Name() string { return "payload" }

// Start extracts the payload unless it already is.
func (e *Extractor) Start(context.Context) error {
	p, err := Open(e.exe)
	if err != nil {
		return err
	}
	t0 := time.Now()
	dir, err := p.Extract(e.dataDir)
	if err != nil {
		return err
	}
	e.log.Debug("payload in place", "dir", dir, "took", time.Since(t0).Round(time.Millisecond))
	removed, err := Prune(e.dataDir)
	for _, d := range removed {
		e.log.Info("removed the payload of an older release", "dir", d)
	}
	if err != nil {
		e.log.Warn("pruning old payloads failed; they stay", "err", err)
	}
	return nil
}

// Ready implements component.Component.
func (e *Extractor) Ready(context.Context) error { return nil }

// Stop implements component.Component.
func (e *Extractor) Stop(context.Context) error { return nil }
