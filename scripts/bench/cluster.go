// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// benchCluster runs tests/e2e's BenchmarkClusterReady: a 1 server + 2 agent
// cluster of node containers on the local Docker engine, from nothing to
// three nodes Ready.
func benchCluster(t *table) error {
	cmd := exec.Command("go", "test", "-tags", "e2e", "-run", "^$", "-bench", "^BenchmarkClusterReady$",
		"-benchtime", "1x", "-timeout", "30m", "./tests/e2e/")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("BenchmarkClusterReady: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`([0-9.]+) s-to-3-nodes-Ready`).FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("BenchmarkClusterReady printed no figure:\n%s", out)
	}
	secs, _ := strconv.ParseFloat(string(m[1]), 64)
	t.add("1 server + 2 agents as containers: start → 3 nodes Ready", ms(time.Duration(secs*float64(time.Second))),
		"tests/e2e BenchmarkClusterReady; node image built beforehand")
	return nil
}
