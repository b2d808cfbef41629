// SPDX-License-Identifier: Apache-2.0

// Package component defines the one lifecycle every long-running part of wren
// implements, and the Runner that starts them in order and stops them in reverse.
package component

import "context"

// Component is one long-running part of a wren server or agent (datastore,
// kube-apiserver, kubelet, ...).
type Component interface {
	// Name is a short, stable, lower-case name used in logs, status and
	// --disable ("kine", "kube-apiserver").
	Name() string
	// Start prepares the component (dirs, certs, config files) and launches its
	// work in the background, returning once launched, not once ready. ctx lives
	// for the whole run and is cancelled only after every component stopped.
	Start(ctx context.Context) error
	// Ready returns nil once the component serves. The runner polls it after
	// Start and starts nothing else until it does; if the ready timeout passes
	// first, startup fails.
	Ready(ctx context.Context) error
	// Stop ends the work and frees resources, waiting at most until ctx is done.
	// It must be safe to call more than once and after a failed or partial Start.
	Stop(ctx context.Context) error
}

// Exiter is implemented by components whose work can end on its own. A value
// received from Exited is fatal: the runner stops everything and returns it.
type Exiter interface {
	Exited() <-chan error
}
