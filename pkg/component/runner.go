// SPDX-License-Identifier: Apache-2.0

package component

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"
)

// Runner starts components in slice order, gates each start on Ready, and
// stops the started ones in reverse order on failure or shutdown.
type Runner struct {
	Log *slog.Logger
	// ReadyTimeout bounds how long one component may take to become ready.
	ReadyTimeout time.Duration
	// StopTimeout bounds each component's Stop.
	StopTimeout time.Duration
	// PollInterval is how often Ready is polled.
	PollInterval time.Duration
	// OnReady, if set, is called once every component is ready.
	OnReady func()

	mu      sync.Mutex
	status  map[string]string
	started []Component
}

// Status states, as reported by Runner.Status.
const (
	StatusStarting = "starting"
	StatusReady    = "ready"
	StatusStopped  = "stopped"
	StatusFailed   = "failed"
)

// Run starts all components, then waits until ctx is cancelled or a component
// exits on its own, then stops everything in reverse. It returns nil after a
// clean shutdown requested through ctx, otherwise the first error joined with
// any stop errors.
func (r *Runner) Run(ctx context.Context, components []Component) error {
	r.defaults()
	// Components live in a context that outlasts the shutdown signal, so that
	// they can be stopped one by one in reverse order.
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()

	exited := make(chan error, len(components))
	runErr := r.startAll(ctx, runCtx, components, exited)
	if runErr == nil {
		if r.OnReady != nil {
			r.OnReady()
		}
		select {
		case <-ctx.Done():
			r.Log.Info("shutting down")
		case runErr = <-exited:
		}
	}
	stopErr := r.stopAll()
	cancelRun()
	return errors.Join(runErr, stopErr)
}

// Status returns each started component's state by name.
func (r *Runner) Status() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.status))
	for k, v := range r.status {
		out[k] = v
	}
	return out
}

func (r *Runner) defaults() {
	if r.Log == nil {
		r.Log = slog.Default()
	}
	if r.ReadyTimeout == 0 {
		r.ReadyTimeout = 3 * time.Minute
	}
	if r.StopTimeout == 0 {
		r.StopTimeout = 30 * time.Second
	}
	if r.PollInterval == 0 {
		r.PollInterval = 100 * time.Millisecond
	}
	r.mu.Lock()
	r.status = map[string]string{}
	r.mu.Unlock()
}

func (r *Runner) setStatus(name, s string) {
	r.mu.Lock()
	r.status[name] = s
	r.mu.Unlock()
}

func (r *Runner) startAll(ctx, runCtx context.Context, components []Component, exited chan error) error {
	begin := time.Now()
	for _, c := range components {
		if err := ctx.Err(); err != nil {
			return nil // shutdown requested while starting: not an error
		}
		log := r.Log.With("component", c.Name())
		log.Info("starting")
		r.setStatus(c.Name(), StatusStarting)
		r.started = append(r.started, c)
		t0 := time.Now()
		if err := c.Start(runCtx); err != nil {
			r.setStatus(c.Name(), StatusFailed)
			return fmt.Errorf("start %s: %w", c.Name(), err)
		}
		if e, ok := c.(Exiter); ok {
			forward(c.Name(), e.Exited(), exited)
		}
		if err := r.waitReady(ctx, c, exited); err != nil {
			r.setStatus(c.Name(), StatusFailed)
			return err
		}
		r.setStatus(c.Name(), StatusReady)
		log.Info("ready", "took", time.Since(t0).Round(time.Millisecond))
	}
	r.Log.Info("all components ready", "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// forward relays the first value of a component's exit channel, naming it.
func forward(name string, from <-chan error, to chan<- error) {
	if from == nil || reflect.ValueOf(from).IsNil() {
		return
	}
	go func() {
		err, ok := <-from
		if !ok {
			return
		}
		if err == nil {
			err = errors.New("exited unexpectedly")
		}
		to <- fmt.Errorf("%s: %w", name, err)
	}()
}

func (r *Runner) waitReady(ctx context.Context, c Component, exited chan error) error {
	readyCtx, cancel := context.WithTimeout(ctx, r.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(r.PollInterval)
	defer tick.Stop()
	var last error
	for {
		if last = c.Ready(readyCtx); last == nil {
			return nil
		}
		select {
		case err := <-exited:
			return err
		case <-readyCtx.Done():
			if ctx.Err() != nil {
				return nil // shutdown requested while waiting
			}
			return fmt.Errorf("%s not ready after %s: %w", c.Name(), r.ReadyTimeout, last)
		case <-tick.C:
		}
	}
}

func (r *Runner) stopAll() error {
	var errs []error
	for i := len(r.started) - 1; i >= 0; i-- {
		c := r.started[i]
		log := r.Log.With("component", c.Name())
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), r.StopTimeout)
		err := c.Stop(ctx)
		cancel()
		if err != nil {
			log.Warn("stop failed", "err", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", c.Name(), err))
			r.setStatus(c.Name(), StatusFailed)
			continue
		}
		r.setStatus(c.Name(), StatusStopped)
		log.Info("stopped", "took", time.Since(t0).Round(time.Millisecond))
	}
	r.started = nil
	return errors.Join(errs...)
}
