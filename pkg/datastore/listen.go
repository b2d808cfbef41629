// SPDX-License-Identifier: Apache-2.0

package datastore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/k3s-io/kine/pkg/drivers"
	"github.com/k3s-io/kine/pkg/server"
	"github.com/sirupsen/logrus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	// The backends wren offers. kine's own endpoint package registers all of
	// its drivers (NATS and T4 too, with an embedded NATS client, Pebble and
	// an S3 client: about 10 MB of the binary); wren serves the etcd API from
	// these alone.
	_ "github.com/k3s-io/kine/pkg/drivers/mysql"
	_ "github.com/k3s-io/kine/pkg/drivers/pgsql"
	_ "github.com/k3s-io/kine/pkg/drivers/remote"
	_ "github.com/k3s-io/kine/pkg/drivers/sqlite"
)

// etcd's gRPC defaults (go.etcd.io/etcd/server/v3/embed), which kine's
// endpoint applies too.
const (
	grpcKeepAliveMinTime  = 5 * time.Second
	grpcKeepAliveInterval = 2 * time.Hour
	grpcKeepAliveTimeout  = 20 * time.Second
	maxRequestBytes       = 1.5*1024*1024 + 512*1024 // etcd's limit plus gRPC overhead
	gracefulStopTimeout   = 2 * time.Second
)

// listenConfig is what serving the etcd API needs.
type listenConfig struct {
	socket              string // unix socket to serve on
	driver              drivers.Config
	notifyInterval      time.Duration
	emulatedETCDVersion string
	wg                  *sync.WaitGroup
}

// listen starts the backend for cfg.driver.Endpoint and serves the etcd API
// on the unix socket; it returns the endpoints for the apiserver. A remote
// etcd (http(s)://) is passed through: its own endpoints come back.
func listen(ctx context.Context, cfg listenConfig) ([]string, error) {
	bctx, bcancel := context.WithCancel(context.WithoutCancel(ctx))
	_, backend, err := drivers.New(bctx, cfg.wg, &cfg.driver)
	if err != nil {
		bcancel()
		return nil, fmt.Errorf("create the datastore driver: %w", err)
	}
	if backend == nil {
		bcancel()
		return strings.Split(cfg.driver.Endpoint, ","), nil
	}
	if err := backend.Start(bctx); err != nil {
		bcancel()
		return nil, fmt.Errorf("start the datastore: %w", err)
	}
	gs := grpc.NewServer(
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: grpcKeepAliveMinTime}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: grpcKeepAliveInterval, Timeout: grpcKeepAliveTimeout}),
		grpc.MaxConcurrentStreams(math.MaxUint32),
		grpc.MaxRecvMsgSize(maxRequestBytes),
		grpc.MaxSendMsgSize(math.MaxInt32),
	)
	server.New(backend, "unix", cfg.notifyInterval, cfg.emulatedETCDVersion).Register(gs)
	if err := os.Remove(cfg.socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		bcancel()
		return nil, err
	}
	l, err := (&net.ListenConfig{}).Listen(bctx, "unix", cfg.socket)
	if err == nil {
		err = os.Chmod(cfg.socket, 0o600)
	}
	if err != nil {
		bcancel()
		return nil, fmt.Errorf("listen on %s: %w", cfg.socket, err)
	}
	go func() {
		<-ctx.Done()
		timer := time.AfterFunc(gracefulStopTimeout, gs.Stop)
		defer timer.Stop()
		gs.GracefulStop()
		bcancel()
	}()
	cfg.wg.Add(1)
	go func() {
		defer cfg.wg.Done()
		if err := gs.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			logrus.Errorf("kine gRPC server exited: %v", err)
		}
	}()
	return []string{"unix://" + cfg.socket}, nil
}
