// SPDX-License-Identifier: Apache-2.0

// Package version holds the build's version stamps, set by scripts/build.sh
// through -ldflags -X.
package version

import (
	"fmt"
	"runtime"

	k8sversion "k8s.io/component-base/version"
)

// Set at build time.
var (
	// Version is wren's own version, such as v0.1.0.
	Version = "v0.0.0-dev"
	// GitCommit is the commit wren was built from.
	GitCommit = "unknown"
	// The bundled images' names (scripts/images/versions.env).
	PauseImage           = "registry.k8s.io/pause:3.10.2"
	CoreDNSImage         = "wrenk8s/coredns:v1.15.0"
	MetricsServerImage   = "wrenk8s/metrics-server:v0.9.0"
	LocalPathHelperImage = "wrenk8s/local-path-helper:v0.1.0"
)

// Kubernetes returns the embedded Kubernetes version (v1.36.3).
func Kubernetes() string { return k8sversion.Get().GitVersion }

// Full returns "v0.1.0+k8s1.36.3", wren's version and Kubernetes' side by side.
func Full() string {
	k := Kubernetes()
	if len(k) > 0 && k[0] == 'v' {
		k = k[1:]
	}
	return Version + "+k8s" + k
}

// Long is what `wren --version` prints.
func Long() string {
	return fmt.Sprintf("wren version %s (%s)\nkubernetes %s\ngo %s %s/%s\n",
		Full(), GitCommit, Kubernetes(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
