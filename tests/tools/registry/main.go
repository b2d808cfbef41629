// SPDX-License-Identifier: Apache-2.0

// Command registry is the CNCF distribution registry (the one behind
// registry:2), built from github.com/distribution/distribution/v3 for wren's
// tests: in-memory storage, optional htpasswd auth and TLS, on one address.
// A module of its own so wren's go.mod stays lean; tests build it with
// testutil.Registry.
//
//	registry -addr 127.0.0.1:5000 [-htpasswd FILE] [-cert FILE -key FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "listen address")
	htpasswd := flag.String("htpasswd", "", "htpasswd file (bcrypt): require basic auth")
	cert := flag.String("cert", "", "TLS certificate (with -key): serve HTTPS")
	key := flag.String("key", "", "TLS key")
	flag.Parse()

	cfg := &configuration.Configuration{}
	cfg.Version = configuration.CurrentVersion
	cfg.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	cfg.Log.Level = "warn"
	cfg.Log.AccessLog.Disabled = false
	cfg.HTTP.Addr = *addr
	cfg.HTTP.Secret = "wren-test-registry"
	cfg.HTTP.TLS.Certificate, cfg.HTTP.TLS.Key = *cert, *key
	if *htpasswd != "" {
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "wren-test", "path": *htpasswd}}
	}
	reg, err := registry.NewRegistry(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
	if err := reg.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}
