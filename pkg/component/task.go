// SPDX-License-Identifier: Apache-2.0

package component

import (
	"context"
	"errors"
	"sync"
)

// Task runs one blocking function in the background on behalf of a component:
// Go launches it, Stop cancels it and waits, and Exited reports it returning
// on its own. Components embed it to get Exited and a correct Stop.
type Task struct {
	mu       sync.Mutex
	cancel   context.CancelFunc
	done     chan struct{}
	exited   chan error
	stopping bool
	err      error
}

// Go runs fn in a goroutine with a context derived from ctx.
func (t *Task) Go(ctx context.Context, fn func(ctx context.Context) error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ctx, t.cancel = context.WithCancel(ctx)
	t.done = make(chan struct{})
	if t.exited == nil {
		t.exited = make(chan error, 1)
	}
	go func() {
		err := fn(ctx)
		t.mu.Lock()
		t.err = err
		stopping := t.stopping
		t.mu.Unlock()
		close(t.done)
		if !stopping {
			if err == nil {
				err = errors.New("exited unexpectedly")
			}
			t.exited <- err
		}
	}()
}

// Exited delivers the function's error if it returns before Stop was called.
func (t *Task) Exited() <-chan error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.exited == nil {
		t.exited = make(chan error, 1)
	}
	return t.exited
}

// Done is closed once the function has returned; nil before Go.
func (t *Task) Done() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.done
}

// Stop cancels the function's context and waits for it to return or for ctx
// to end. It is safe to call before Go and more than once.
func (t *Task) Stop(ctx context.Context) error {
	t.mu.Lock()
	t.stopping = true
	cancel, done := t.cancel, t.done
	t.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
