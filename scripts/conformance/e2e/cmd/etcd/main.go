// SPDX-License-Identifier: Apache-2.0

// Command etcd is upstream etcd's server (go.etcd.io/etcd/server/v3's
// etcdmain, as etcd's own main calls it), built for the conformance suite's
// registry.k8s.io/etcd image: the sample-apiserver test runs it as its
// storage.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
