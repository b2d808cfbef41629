// SPDX-License-Identifier: Apache-2.0

package datastore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kinetls "github.com/k3s-io/kine/pkg/tls"
	"github.com/sirupsen/logrus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

var (
	hookOnce sync.Once
	lastKine atomic.Value // string
)

// watchKineErrors records the last error kine logs (it reports connection
// failures only through logrus) and returns a getter for it.
func watchKineErrors() func() string {
	hookOnce.Do(func() { logrus.AddHook(errorHook{}) })
	lastKine.Store("")
	return func() string { return lastKine.Load().(string) }
}

type errorHook struct{}

func (errorHook) Levels() []logrus.Level { return []logrus.Level{logrus.ErrorLevel, logrus.WarnLevel} }

func (errorHook) Fire(e *logrus.Entry) error {
	msg := strings.TrimSpace(e.Message)
	if strings.Contains(msg, "ping database") || strings.Contains(msg, "connect") {
		lastKine.Store(msg)
	}
	return nil
}

// waitForEtcd polls an external etcd until it answers or the timeout passes,
// logging each failed attempt.
func waitForEtcd(ctx context.Context, endpoints []string, tlsCfg kinetls.Config, timeout time.Duration, log *slog.Logger) error {
	cfg := clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second}
	if tlsCfg.CAFile != "" || tlsCfg.CertFile != "" {
		tc, err := tlsCfg.ClientConfig()
		if err != nil {
			return fmt.Errorf("etcd TLS: %w", err)
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(timeout)
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = cli.Status(sctx, endpoints[0])
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("unreachable after %s: %w", timeout, err)
		}
		log.Warn("waiting for etcd", "endpoint", endpoints[0], "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
