// SPDX-License-Identifier: Apache-2.0

package secretsencrypt

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// rewriters is how many Secrets are written back at once.
const rewriters = 8

// retryAfter is how long a failed re-encryption waits before it runs again.
const retryAfter = 10 * time.Second

// run re-encrypts whenever the state asks for it: after a command, and at
// start when a re-encryption was cut short by a restart.
func (c *Controller) run(ctx context.Context) error {
	for {
		var wait <-chan time.Time
		if st, err := c.loadState(); err == nil && (st.Stage == StageReencryptRequest || st.Stage == StageReencryptActive) {
			if err := c.reencrypt(ctx); err != nil && ctx.Err() == nil {
				c.cfg.Log.Error("re-encrypting Secrets failed; retrying", "err", err, "in", retryAfter)
				c.recordError(err)
				wait = time.After(retryAfter)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
		case <-wait:
		}
	}
}

// reencrypt rewrites every Secret with the active key (or in plain text when
// encryption is disabled), then drops the keys nothing is encrypted with.
func (c *Controller) reencrypt(ctx context.Context) error {
	c.mu.Lock()
	st, err := c.loadState()
	if err == nil {
		st.Stage = StageReencryptActive
		err = c.saveState(st)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	cs, err := c.cfg.Client()
	if err != nil {
		return err
	}
	c.cfg.Log.Info("re-encrypting every Secret")
	n, err := rewriteSecrets(ctx, cs)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := os.ReadFile(c.cfg.ConfigFile)
	if err != nil {
		return err
	}
	keys, err := ParseKeys(b)
	if err != nil {
		return err
	}
	if keys.Enabled && len(keys.Keys) > 1 {
		// Every Secret is now written with the first key.
		keys.Keys = keys.Keys[:1]
		if err := c.apply(ctx, b, keys); err != nil {
			return err
		}
	}
	st.Stage, st.LastError, st.Reencrypted = StageReencryptFinished, "", n
	c.cfg.Log.Info("re-encrypted every Secret", "secrets", n)
	return c.saveState(st)
}

func (c *Controller) recordError(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, lerr := c.loadState(); lerr == nil {
		st.LastError = err.Error()
		_ = c.saveState(st)
	}
}

// rewriteSecrets writes every Secret back unchanged: the apiserver stores
// again each one it read with a key other than its first (etcd3 store's
// "stale" read), which is what moves it to the active key.
func rewriteSecrets(ctx context.Context, cs kubernetes.Interface) (int, error) {
	n := 0
	opts := metav1.ListOptions{Limit: 250}
	for {
		list, err := cs.CoreV1().Secrets("").List(ctx, opts)
		if apierrors.IsResourceExpired(err) && opts.Continue != "" {
			// The continue token outlived its revision: list again (a second
			// write of a Secret is harmless).
			opts.Continue = ""
			continue
		}
		if err != nil {
			return n, fmt.Errorf("list Secrets: %w", err)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(rewriters)
		for i := range list.Items {
			g.Go(func() error { return rewrite(gctx, cs, &list.Items[i]) })
		}
		if err := g.Wait(); err != nil {
			return n, err
		}
		n += len(list.Items)
		if opts.Continue = list.Continue; opts.Continue == "" {
			return n, nil
		}
	}
}

func rewrite(ctx context.Context, cs kubernetes.Interface, s *corev1.Secret) error {
	_, err := cs.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// Deleted or written since it was listed: after the active key was
		// loaded, so with it.
		return nil
	}
	if err != nil {
		return fmt.Errorf("rewrite Secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	return nil
}
