// SPDX-License-Identifier: Apache-2.0

package component

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fake is the one fake component: it records lifecycle calls in a shared log.
type fake struct {
	name      string
	log       *events
	startErr  error
	readyIn   int // Ready fails this many times first
	readyErr  error
	stopErr   error
	exitAfter time.Duration
	// readyAfter: Ready fails until this event was logged.
	readyAfter string
	Task
}

type events struct {
	mu sync.Mutex
	l  []string
}

func (e *events) add(s string)      { e.mu.Lock(); e.l = append(e.l, s); e.mu.Unlock() }
func (e *events) has(s string) bool { return slices.Contains(e.get(), s) }
func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.l...)
}

func (f *fake) Name() string { return f.name }
func (f *fake) Start(ctx context.Context) error {
	f.log.add("start " + f.name)
	if f.startErr != nil {
		return f.startErr
	}
	f.Go(ctx, func(ctx context.Context) error {
		if f.exitAfter > 0 {
			select {
			case <-time.After(f.exitAfter):
				return errors.New("boom")
			case <-ctx.Done():
				return nil
			}
		}
		<-ctx.Done()
		return nil
	})
	return nil
}
func (f *fake) Ready(context.Context) error {
	if f.readyErr != nil {
		return f.readyErr
	}
	if f.readyAfter != "" && !f.log.has(f.readyAfter) {
		return errors.New("waiting for " + f.readyAfter)
	}
	if f.readyIn > 0 {
		f.readyIn--
		return errors.New("not yet")
	}
	return nil
}
func (f *fake) Stop(ctx context.Context) error {
	f.log.add("stop " + f.name)
	if err := f.Task.Stop(ctx); err != nil {
		return err
	}
	return f.stopErr
}

func quietRunner() *Runner {
	return &Runner{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: time.Millisecond,
		ReadyTimeout: 200 * time.Millisecond, StopTimeout: time.Second}
}

func TestRunnerStartsInOrderStopsInReverse(t *testing.T) {
	t.Parallel()
	ev := &events{}
	cs := []Component{&fake{name: "a", log: ev, readyIn: 3}, &fake{name: "b", log: ev}, &fake{name: "c", log: ev}}
	ctx, cancel := context.WithCancel(t.Context())
	r := quietRunner()
	r.OnReady = cancel
	require.NoError(t, r.Run(ctx, cs))
	assert.Equal(t, []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"}, ev.get())
	assert.Equal(t, map[string]string{"a": StatusStopped, "b": StatusStopped, "c": StatusStopped}, r.Status())
}

func TestRunnerStartFailureStopsStarted(t *testing.T) {
	t.Parallel()
	ev := &events{}
	cs := []Component{&fake{name: "a", log: ev}, &fake{name: "b", log: ev, startErr: errors.New("no disk")}, &fake{name: "c", log: ev}}
	err := quietRunner().Run(t.Context(), cs)
	require.ErrorContains(t, err, "start b: no disk")
	assert.Equal(t, []string{"start a", "start b", "stop b", "stop a"}, ev.get())
}

func TestRunnerReadyTimeout(t *testing.T) {
	t.Parallel()
	ev := &events{}
	cs := []Component{&fake{name: "a", log: ev, readyErr: errors.New("port closed")}, &fake{name: "b", log: ev}}
	err := quietRunner().Run(t.Context(), cs)
	require.ErrorContains(t, err, "a not ready after 200ms: port closed")
	assert.Equal(t, []string{"start a", "stop a"}, ev.get())
}

func TestRunnerExitIsFatal(t *testing.T) {
	t.Parallel()
	ev := &events{}
	cs := []Component{&fake{name: "a", log: ev}, &fake{name: "b", log: ev, exitAfter: 20 * time.Millisecond}}
	err := quietRunner().Run(t.Context(), cs)
	require.ErrorContains(t, err, "b: boom")
	assert.Equal(t, []string{"start a", "start b", "stop b", "stop a"}, ev.get())
}

func TestRunnerExitWhileWaitingForReady(t *testing.T) {
	t.Parallel()
	ev := &events{}
	r := quietRunner()
	r.ReadyTimeout = 10 * time.Second
	cs := []Component{&fake{name: "a", log: ev, readyErr: errors.New("never"), exitAfter: 10 * time.Millisecond}}
	err := r.Run(t.Context(), cs)
	// The exit, not the 10 s ready timeout, must end the wait.
	require.ErrorContains(t, err, "a: boom")
	assert.NotContains(t, err.Error(), "not ready")
}

func TestRunnerStopErrorsAreJoined(t *testing.T) {
	t.Parallel()
	ev := &events{}
	cs := []Component{&fake{name: "a", log: ev, stopErr: errors.New("busy")}, &fake{name: "b", log: ev}}
	ctx, cancel := context.WithCancel(t.Context())
	r := quietRunner()
	r.OnReady = cancel
	err := r.Run(ctx, cs)
	require.ErrorContains(t, err, "stop a: busy")
	assert.Equal(t, []string{"start a", "start b", "stop b", "stop a"}, ev.get())
}

func TestTaskStopBeforeGo(t *testing.T) {
	t.Parallel()
	var task Task
	require.NoError(t, task.Stop(t.Context()))
	require.NoError(t, task.Stop(t.Context()))
}

func TestRunnerParallelListsStartSideBySide(t *testing.T) {
	t.Parallel()
	ev := &events{}
	// a1 is ready only once b2 started: lists started one after the other
	// would time out.
	cs := []Component{
		&fake{name: "first", log: ev},
		&Parallel{Label: "both", Lists: [][]Component{
			{&fake{name: "a1", log: ev, readyAfter: "start b2"}, &fake{name: "a2", log: ev}},
			{&fake{name: "b1", log: ev}, &fake{name: "b2", log: ev}},
		}},
		&fake{name: "last", log: ev},
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := quietRunner()
	r.OnReady = cancel
	require.NoError(t, r.Run(ctx, cs))
	got := ev.get()
	require.Len(t, got, 12)
	assert.Equal(t, []string{"start first"}, got[:1])
	assert.ElementsMatch(t, []string{"start a1", "start a2", "start b1", "start b2"}, got[1:5])
	assert.Less(t, slices.Index(got, "start a1"), slices.Index(got, "start a2"), "a list keeps its order")
	assert.Less(t, slices.Index(got, "start b1"), slices.Index(got, "start b2"))
	assert.Equal(t, "start last", got[5])
	assert.Equal(t, "stop last", got[6])
	assert.Less(t, slices.Index(got, "stop a2"), slices.Index(got, "stop a1"), "a list stops in reverse")
	assert.Less(t, slices.Index(got, "stop b2"), slices.Index(got, "stop b1"))
	assert.Equal(t, "stop first", got[11])
	assert.Equal(t, StatusStopped, r.Status()["b2"])
}

func TestRunnerParallelFailureStopsTheOtherList(t *testing.T) {
	t.Parallel()
	ev := &events{}
	r := quietRunner()
	r.ReadyTimeout = 10 * time.Second
	cs := []Component{
		&Parallel{Label: "both", Lists: [][]Component{
			{&fake{name: "a1", log: ev, readyErr: errors.New("slow")}, &fake{name: "a2", log: ev}},
			{&fake{name: "b1", log: ev, readyAfter: "start a1"}, &fake{name: "b2", log: ev, startErr: errors.New("no disk")}},
		}},
		&fake{name: "last", log: ev},
	}
	err := r.Run(t.Context(), cs)
	// b2's failure ends a1's wait at once, not after the 10 s timeout.
	require.ErrorContains(t, err, "start b2: no disk")
	assert.NotContains(t, err.Error(), "not ready")
	got := ev.get()
	assert.NotContains(t, got, "start a2")
	assert.NotContains(t, got, "start last")
	assert.ElementsMatch(t, []string{"start a1", "start b1", "start b2", "stop a1", "stop b1", "stop b2"}, got)
}
