// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// addonDeployments are the bundled add-ons that run pods.
var addonDeployments = []string{"coredns", "metrics-server"}

// waitAddonsAvailable returns the time from since until every bundled add-on
// Deployment has an available replica.
func (s *server) waitAddonsAvailable(since time.Time) (time.Duration, error) {
	cs, err := s.client()
	if err != nil {
		return 0, err
	}
	for time.Since(since) < 5*time.Minute {
		available := 0
		for _, name := range addonDeployments {
			d, err := cs.AppsV1().Deployments("kube-system").Get(context.Background(), name, metav1.GetOptions{})
			if err == nil && d.Status.AvailableReplicas > 0 && d.Status.ObservedGeneration == d.Generation {
				available++
			}
		}
		if available == len(addonDeployments) {
			return time.Since(since), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return 0, errors.New("bundled add-ons not Available within 5 minutes")
}

// podsMemory sums the memory of every process in a Kubernetes pod's cgroup
// and of the containerd shims that hold them.
func podsMemory() (memory, int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return memory{}, 0, err
	}
	var total memory
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cgroup, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if !strings.Contains(string(cgroup), "kubepods") && !strings.Contains(string(cmdline), "containerd-shim") {
			continue
		}
		m, err := memoryOf(pid)
		if err != nil {
			continue // exited meanwhile
		}
		total = total.add(m)
		n++
	}
	return total, n, nil
}

// imageBundleSize is the size of the image tarballs carried in the binary
// (extracted under <data-dir>/data/current/images).
func imageBundleSize(dataDir string) (int64, []string, error) {
	files, err := filepath.Glob(filepath.Join(dataDir, "data", "current", "images", "*"))
	if err != nil || len(files) == 0 {
		return 0, nil, fmt.Errorf("no bundled images under %s/data/current/images", dataDir)
	}
	var size int64
	var names []string
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return 0, nil, err
		}
		size += fi.Size()
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".tar"))
	}
	return size, names, nil
}
