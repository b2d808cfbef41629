// SPDX-License-Identifier: Apache-2.0

package pki

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"k8s.io/client-go/transport"
)

// LeafLifetimeEnv sets the validity of the leaf certificates wren signs, as a
// Go duration ("8760h", the default, is a year). Shorter lifetimes are for
// testing renewal; k3s's equivalent is CATTLE_NEW_SIGNED_CERT_EXPIRATION_DAYS.
const LeafLifetimeEnv = "WREN_NEW_SIGNED_CERT_VALIDITY"

// minLeafLifetime keeps renewal loops sane.
const minLeafLifetime = 30 * time.Second

var leafLifetime = sync.OnceValues(func() (time.Duration, error) {
	v := os.Getenv(LeafLifetimeEnv)
	if v == "" {
		return LeafLifetime, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < minLeafLifetime {
		return LeafLifetime, fmt.Errorf("$%s %q: want a duration of at least %s, such as 2160h", LeafLifetimeEnv, v, minLeafLifetime)
	}
	return d, nil
})

// CheckLifetimeEnv reports a malformed $WREN_NEW_SIGNED_CERT_VALIDITY.
func CheckLifetimeEnv() error {
	_, err := leafLifetime()
	return err
}

// newLeafLifetime is the validity of the leaves signed now.
func newLeafLifetime() time.Duration {
	d, _ := leafLifetime()
	return d
}

// backdate is how far before now a new leaf becomes valid (clock skew
// between machines).
func backdate(lifetime time.Duration) time.Duration { return min(time.Hour, lifetime/10) }

// renewWindow is how long before its expiry a leaf is renewed: 90 days, or
// half the lifetime of a shorter-lived certificate.
func renewWindow(notBefore, notAfter time.Time) time.Duration {
	return min(RenewWindow, notAfter.Sub(notBefore)/2)
}

// RenewInterval is how often running servers and agents look for leaves to
// renew.
func RenewInterval() time.Duration {
	return min(time.Hour, max(time.Second, newLeafLifetime()/20))
}

// EveryRenewInterval calls fn every RenewInterval until ctx ends: the body
// of the loops that renew certificates and what embeds them.
func EveryRenewInterval(ctx context.Context, fn func()) error {
	tick := time.NewTicker(RenewInterval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			fn()
		}
	}
}

// NeedsRenewal reports whether the certificate at path is missing,
// unreadable or inside its renewal window at now.
func NeedsRenewal(path string, now time.Time) bool {
	nb, na, err := CertValidity(path)
	return err != nil || na.Sub(now) < renewWindow(nb, na)
}

// TuneClientReload makes the in-process API clients, which re-read their
// certificate files, also drop connections made with a replaced
// certificate soon enough for short lifetimes (client-go checks every five
// minutes; a year-long certificate is renewed 90 days early).
func TuneClientReload() {
	if l := newLeafLifetime(); l/10 < transport.CertCallbackRefreshDuration {
		// NOTE: a package variable, exported by client-go for this purpose.
		transport.CertCallbackRefreshDuration = max(time.Second, l/10)
	}
}
