// SPDX-License-Identifier: Apache-2.0

// Package coredns is `wren coredns`: CoreDNS (github.com/coredns/coredns)
// with the plugins a cluster's DNS needs and none of the cloud ones. The
// bundled CoreDNS pods run it from the node's wren binary, so the release
// carries no second copy of the Go runtime and client-go for it.
package coredns

import (
	"os"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/acl"
	_ "github.com/coredns/coredns/plugin/any"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/debug"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/file"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/header"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/k8s_external"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metadata"
	_ "github.com/coredns/coredns/plugin/metrics" // the "prometheus" directive
	_ "github.com/coredns/coredns/plugin/minimal"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/rewrite"
	_ "github.com/coredns/coredns/plugin/root"
	_ "github.com/coredns/coredns/plugin/template"
	_ "github.com/coredns/coredns/plugin/whoami"
)

// directives is upstream's plugin order (plugin.cfg), keeping only the
// plugins compiled in: the order decides how a query flows through them.
var directives = []string{
	"root", "metadata", "reload", "bind", "debug", "ready", "health", "prometheus", "errors", "log",
	"any", "loadbalance", "rewrite", "acl", "cache", "header", "minimal", "template", "hosts",
	"k8s_external", "kubernetes", "file", "loop", "forward", "whoami",
}

// Run runs CoreDNS with its own flags (-conf FILE, ...). It returns only
// when CoreDNS ends, which it does by exiting the process.
func Run(args []string) int {
	dnsserver.Directives = directives
	// NOTE: coremain parses os.Args with the standard flag package and
	// re-executes os.Args on SIGUSR2, so they must read as CoreDNS's own.
	os.Args = append([]string{"coredns"}, args...)
	coremain.Run()
	return 0
}
