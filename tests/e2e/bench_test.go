//go:build e2e

// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"testing"
	"time"
)

// BenchmarkClusterReady measures a 1 server + 2 agent cluster of node
// containers from nothing (image built beforehand, not timed) to all three
// nodes Ready. `make bench` runs it with -benchtime 1x; `go test` without
// -bench does not.
func BenchmarkClusterReady(b *testing.B) {
	for range b.N {
		b.StopTimer()
		c := NewCluster(b)
		b.StartTimer()
		begin := time.Now()
		c.StartServer()
		c.StartAgent("agent-1", c.Token)
		c.StartAgent("agent-2", c.Token)
		c.WaitNodesReady(5*time.Minute, "True", "server", "agent-1", "agent-2")
		b.ReportMetric(time.Since(begin).Seconds(), "s-to-3-nodes-Ready")
	}
}
