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

	exited := make(chan error, count(components))
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
	if err := r.startList(ctx, runCtx, components, exited); err != nil || ctx.Err() != nil {
		return err // a shutdown requested while starting is not an error
	}
	r.Log.Info("all components ready", "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// startList starts components one after the other, each once the one
// before it is ready; a Parallel entry starts its lists side by side.
func (r *Runner) startList(ctx, runCtx context.Context, components []Component, exited chan error) error {
	for _, c := range components {
		if ctx.Err() != nil {
			return nil
		}
		var err error
		if p, ok := c.(*Parallel); ok {
			err = r.startParallel(ctx, runCtx, p, exited)
		} else {
			err = r.startOne(ctx, runCtx, c, exited)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// startParallel starts p's lists at once and returns when every component
// in them is ready, or the first error (the other lists stop starting).
func (r *Runner) startParallel(ctx, runCtx context.Context, p *Parallel, exited chan error) error {
	laneCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(p.Lists))
	var wg sync.WaitGroup
	for i, list := range p.Lists {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = r.startList(laneCtx, runCtx, list, exited); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *Runner) startOne(ctx, runCtx context.Context, c Component, exited chan error) error {
	log := r.Log.With("component", c.Name())
	log.Info("starting")
	r.setStatus(c.Name(), StatusStarting)
	r.mu.Lock()
	r.started = append(r.started, c)
	r.mu.Unlock()
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
	if ctx.Err() == nil {
		r.setStatus(c.Name(), StatusReady)
		log.Info("ready", "took", time.Since(t0).Round(time.Millisecond))
	}
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

// Parallel is an entry of a component list whose lists start side by side,
// each in its own order (a component once the one before it in its list is
// ready). The runner goes on past it once every component of every list is
// ready; a failure in one list stops the others from starting further.
// Stopping is as for all components: the reverse of the order they started
// in, so each list is stopped in its own reverse order. Use it for parts
// that need nothing from each other, like a control plane and a node's
// container runtime. Its own lifecycle methods are never called.
type Parallel struct {
	Label string
	Lists [][]Component
}

var _ Component = (*Parallel)(nil)

// Name implements Component.
func (p *Parallel) Name() string { return p.Label }

// Start implements Component; the runner starts the lists instead.
func (p *Parallel) Start(context.Context) error { return errParallel }

// Ready implements Component; the runner waits for the lists instead.
func (p *Parallel) Ready(context.Context) error { return errParallel }

// Stop implements Component; the runner stops the lists' components.
func (p *Parallel) Stop(context.Context) error { return nil }

var errParallel = errors.New("component.Parallel is started by a Runner, not on its own")

// count is the number of components in a list, those in Parallel entries
// included.
func count(components []Component) int {
	n := 0
	for _, c := range components {
		if p, ok := c.(*Parallel); ok {
			for _, l := range p.Lists {
				n += count(l)
			}
			continue
		}
		n++
	}
	return n
}
