// SPDX-License-Identifier: Apache-2.0

package control

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	schedapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	schedoptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/cliargs"
	"github.com/wren-k8s/wren/pkg/internal/healthz"
	"github.com/wren-k8s/wren/pkg/pki"
)

// SchedulerConfig is what kube-scheduler needs.
type SchedulerConfig struct {
	APIURL      string
	Certs       pki.Paths
	CredDir     string
	Port        int
	LeaderElect bool
	ExtraArgs   []string
}

// Scheduler runs kube-scheduler in-process.
type Scheduler struct {
	cfg   SchedulerConfig
	log   *slog.Logger
	ready *healthz.Probe
	component.Task
}

var (
	_ component.Component = (*Scheduler)(nil)
	_ component.Exiter    = (*Scheduler)(nil)
)

// NewScheduler returns the kube-scheduler component.
func NewScheduler(cfg SchedulerConfig, log *slog.Logger) *Scheduler {
	return &Scheduler{cfg: cfg, log: log}
}

// Name implements component.Component.
func (s *Scheduler) Name() string { return "kube-scheduler" }

// Start writes the scheduler's kubeconfig, sets it up and runs it.
func (s *Scheduler) Start(ctx context.Context) error {
	kubeconfig, err := writeComponentKubeconfig(s.cfg.CredDir, "scheduler", s.cfg.APIURL, s.cfg.Certs, pki.ClientScheduler)
	if err != nil {
		return err
	}
	opts := schedoptions.NewOptions()
	args := cliargs.Render(map[string]string{
		"authentication-kubeconfig": kubeconfig,
		"authorization-kubeconfig":  kubeconfig,
		"bind-address":              "127.0.0.1",
		"kubeconfig":                kubeconfig,
		"leader-elect":              strconv.FormatBool(s.cfg.LeaderElect),
		"profiling":                 "false",
		"secure-port":               strconv.Itoa(s.cfg.Port),
	}, s.cfg.ExtraArgs)
	if err := parseInto("kube-scheduler", *opts.Flags, args); err != nil {
		return err
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return fmt.Errorf("kube-scheduler feature gates: %w", err)
	}
	// Setup's context must outlive Start: it owns the informers.
	runCtx, cancel := context.WithCancel(ctx)
	cc, sched, err := schedapp.Setup(runCtx, opts)
	if err != nil {
		cancel()
		return portInUse(fmt.Errorf("kube-scheduler: %w", err), "--kube-scheduler-arg=secure-port", s.cfg.Port)
	}
	if s.cfg.Port > 0 {
		s.ready = healthz.NewLoopbackTLS(s.cfg.Port, "/healthz")
	}
	s.Go(runCtx, func(ctx context.Context) error {
		defer cancel()
		return schedapp.Run(ctx, cc, sched)
	})
	return nil
}

// Ready returns nil once /healthz answers.
func (s *Scheduler) Ready(ctx context.Context) error {
	if s.ready == nil {
		return nil
	}
	return s.ready.Check(ctx)
}
