// SPDX-License-Identifier: Apache-2.0

// Package manifests holds the bundled add-ons (CoreDNS, local-path storage,
// metrics-server) as YAML templates, embedded in the binary. The deploy
// controller stages them into <data-dir>/server/manifests, filling in the
// %{VARIABLE}% placeholders.
package manifests

import "embed"

// FS is the bundled manifests; a file's stem is the add-on's name (--disable).
//
//go:embed *.yaml
var FS embed.FS
