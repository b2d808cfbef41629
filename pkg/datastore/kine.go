// SPDX-License-Identifier: Apache-2.0

// Package datastore runs the cluster's datastore: kine in-process, serving the
// etcd API on a unix socket over SQLite (default), PostgreSQL or MySQL, or a
// pass-through to an external etcd.
package datastore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/k3s-io/kine/pkg/drivers"
	kinetls "github.com/k3s-io/kine/pkg/tls"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
)

// Config is what the datastore component needs.
type Config struct {
	// Endpoint is the kine DSN (sqlite://, postgres://, mysql://, http(s):// for etcd).
	Endpoint string
	// Socket is the unix socket kine serves the etcd API on.
	Socket string
	// ConnectTimeout bounds how long the backend may stay unreachable at start.
	ConnectTimeout time.Duration
	// CAFile, CertFile and KeyFile secure the connection to the backend.
	CAFile, CertFile, KeyFile string
	// SQLitePageSize, when set, is the page size of a SQLite database that
	// does not exist yet.
	SQLitePageSize int
}

// Kine is the datastore component.
type Kine struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	endpoints []string
	listenErr error
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	exited    chan error
}

var (
	_ component.Component = (*Kine)(nil)
	_ component.Exiter    = (*Kine)(nil)
)

// New returns the datastore component.
func New(cfg Config, log *slog.Logger) *Kine {
	return &Kine{cfg: cfg, log: log, exited: make(chan error, 1)}
}

// Name implements component.Component.
func (k *Kine) Name() string { return "kine" }

// Scheme is the DSN scheme: sqlite, postgres, mysql, https, ...
func (k *Kine) Scheme() string {
	s, _, _ := strings.Cut(k.cfg.Endpoint, "://")
	return s
}

// Start checks a SQLite file, then starts kine in the background.
func (k *Kine) Start(ctx context.Context) error {
	if k.Scheme() == "sqlite" {
		if err := prepareSQLite(k.cfg.Endpoint, k.cfg.SQLitePageSize); err != nil {
			return err
		}
	}
	kctx, cancel := context.WithCancel(ctx)
	k.mu.Lock()
	k.cancel = cancel
	k.mu.Unlock()
	lastErr := watchKineErrors()
	go k.listen(kctx)
	go k.deadline(kctx, lastErr)
	return nil
}

func (k *Kine) listen(ctx context.Context) {
	tlsCfg := kinetls.Config{CAFile: k.cfg.CAFile, CertFile: k.cfg.CertFile, KeyFile: k.cfg.KeyFile}
	endpoints, err := listen(ctx, kineConfig(k.cfg, &k.wg, tlsCfg))
	if err == nil && !strings.HasPrefix(endpoints[0], "unix") {
		// kine passes external etcd through untouched; check it answers.
		err = waitForEtcd(ctx, endpoints, tlsCfg, k.cfg.ConnectTimeout, k.log)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.listenErr = err
	if err == nil {
		k.endpoints = endpoints
	} else if ctx.Err() == nil {
		k.fail(fmt.Errorf("datastore %s: %w", config.RedactDSN(k.cfg.Endpoint), err))
	}
}

// deadline fails the start if the backend is still unreachable after the
// connect timeout. kine itself retries for five minutes without a way to stop
// it, logging each failed attempt; the last one becomes the reported cause.
func (k *Kine) deadline(ctx context.Context, lastErr func() string) {
	t := time.NewTimer(k.cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.endpoints != nil || k.listenErr != nil {
		return
	}
	cause := lastErr()
	if cause == "" {
		cause = "no answer"
	}
	k.fail(fmt.Errorf("datastore %s unreachable after %s: %s", config.RedactDSN(k.cfg.Endpoint), k.cfg.ConnectTimeout, cause))
}

// fail reports a fatal error once; later ones are dropped.
func (k *Kine) fail(err error) {
	select {
	case k.exited <- err:
	default:
	}
}

// Ready returns nil once the etcd API is served.
func (k *Kine) Ready(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.listenErr != nil {
		return k.listenErr
	}
	if k.endpoints == nil {
		return fmt.Errorf("connecting to %s", config.RedactDSN(k.cfg.Endpoint))
	}
	return nil
}

// Endpoints are the etcd endpoints the apiserver should use; valid once Ready.
func (k *Kine) Endpoints() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.endpoints
}

// Exited implements component.Exiter.
func (k *Kine) Exited() <-chan error { return k.exited }

// Stop shuts the gRPC server down and closes the database.
func (k *Kine) Stop(ctx context.Context) error {
	k.mu.Lock()
	cancel := k.cancel
	k.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	done := make(chan struct{})
	go func() { k.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// kineConfig fills every field the way kine's own command line does.
//
// NOTE: kine's embedded configuration applies none of the defaults of kine's
// CLI (pkg/app/app.go). Left at zero, PollInterval makes every watch fail
// ("datastore poll interval must be greater than zero"): informers never see
// new objects, the default ServiceCIDR is never observed and kube-apiserver's
// start-service-ip-repair-controllers post-start hook fails after 60 s. This
// was the root cause of the apiserver never becoming ready on kine.
func kineConfig(cfg Config, wg *sync.WaitGroup, backendTLS kinetls.Config) listenConfig {
	c := listenConfig{
		socket:              cfg.Socket,
		wg:                  wg,
		notifyInterval:      5 * time.Second,
		emulatedETCDVersion: "3.6.11",
		driver: drivers.Config{
			Endpoint:         cfg.Endpoint,
			BackendTLSConfig: backendTLS,
			PollInterval:     time.Second,
			// As on etcd, the apiserver drives compaction: every 5 minutes
			// (--etcd-compaction-interval) it compacts to the revision it saw
			// the time before. kine's own compactor is off (interval 0) and
			// keeps no extra revisions: with kine's default of the last 1,000,
			// a quiet cluster never compacted anything, so continue tokens
			// and watches from old revisions never expired as they do on
			// etcd (a [Conformance] test waits for exactly that).
			CompactInterval:  0,
			CompactTimeout:   5 * time.Second,
			CompactMinRetain: 0,
			CompactBatchSize: 1000,
			PollBatchSize:    500,
		},
	}
	c.driver.ConnectionPoolConfig.MaxIdle = 20
	c.driver.ConnectionPoolConfig.MaxIdleTime = 2 * time.Minute
	return c
}

var sqliteMagic = []byte("SQLite format 3\x00")

// prepareSQLite creates the database directory (and the database, with
// pageSize if set) and refuses a file that is not a SQLite database, before
// kine touches it.
func prepareSQLite(dsn string, pageSize int) error {
	_, rest, _ := strings.Cut(dsn, "://")
	path, _, _ := strings.Cut(rest, "?")
	if path == "" {
		return errors.New("--datastore-endpoint sqlite://: missing file path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("datastore directory: %w", err)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if pageSize == 0 {
			return nil
		}
		return createSQLite(path, pageSize)
	}
	if err != nil {
		return fmt.Errorf("datastore %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	if n == 0 && (err == io.EOF || err == nil) {
		return nil // empty file: SQLite initialises it
	}
	if !bytes.Equal(head[:n], sqliteMagic) {
		return fmt.Errorf("datastore %s: not a SQLite database (move it away or point --data-dir elsewhere)", path)
	}
	return nil
}
