// SPDX-License-Identifier: Apache-2.0

// Package metricsserver is `wren metrics-server`: the upstream
// metrics-server (sigs.k8s.io/metrics-server), which the bundled
// metrics-server pod runs from the node's wren binary.
package metricsserver

import (
	"context"
	"fmt"
	"io"

	"k8s.io/component-base/logs"
	"sigs.k8s.io/metrics-server/cmd/metrics-server/app"
)

// Run runs metrics-server with its own flags until ctx ends.
func Run(ctx context.Context, args []string, stderr io.Writer) int {
	logs.InitLogs()
	defer logs.FlushLogs()
	cmd := app.NewMetricsServerCommand(ctx.Done())
	cmd.Use = "metrics-server"
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "metrics-server:", err)
		return 1
	}
	return 0
}
