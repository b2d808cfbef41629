// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/wren-k8s/wren/tests/hoststate"
)

const agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.63.0"

// benchNode measures `wren server` with its node: start to node Ready, idle
// memory of wren and containerd, first pod and pod start latency.
func benchNode(t *table, bin string, idle time.Duration) error {
	restore := snapshotHost()
	defer restore()
	s, err := newServer(bin, true)
	if err != nil {
		return err
	}
	defer s.close()

	begin := time.Now()
	cold, err := s.start()
	if err != nil {
		return fmt.Errorf("node cold start: %w", err)
	}
	t.add("node cold start: exec → all components ready", ms(cold.allReady), "payload extraction and image import included")
	ready, err := s.waitNodeReady(begin)
	if err != nil {
		return err
	}
	t.add("node cold start: exec → node Ready", ms(ready), "")
	addons, err := s.waitAddonsAvailable(begin)
	if err != nil {
		return err
	}
	t.add("node cold start: exec → bundled add-ons Available", ms(addons), strings.Join(addonDeployments, ", "))
	if size, names, err := imageBundleSize(filepath.Join(s.dir, "data")); err == nil {
		t.add("image bundle (uncompressed tarballs in the payload)", mib(size), strings.Join(names, ", "))
	} else {
		return err
	}

	fmt.Fprintf(os.Stderr, "idling %s before measuring memory...\n", idle)
	before, err := nodeUsage(s.pid())
	if err != nil {
		return err
	}
	time.Sleep(idle)
	after, err := nodeUsage(s.pid())
	if err != nil {
		return err
	}
	cpu, writes := after.sub(before).idleRates(idle)
	t.add(fmt.Sprintf("node idle CPU over %s: wren + containerd", idle), cpu, "server with its node and the add-ons, no workload")
	t.add(fmt.Sprintf("node idle writes over %s: wren + containerd", idle), writes, "write_bytes of /proc/PID/io, per hour (SQLite datastore, containerd state)")
	wrenMem, err := memoryOf(s.pid())
	if err != nil {
		return err
	}
	ctrdMem, err := memoryOf(containerdPID())
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("node idle memory after %s: wren (RSS / PSS / anon)", idle), wrenMem.String(), "control plane + kubelet + kube-proxy + flannel")
	t.add(fmt.Sprintf("node idle memory after %s: containerd", idle), ctrdMem.String(), "child process")
	podMem, procs, err := podsMemory()
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("node idle memory after %s: add-on pods and shims", idle), podMem.String(), fmt.Sprintf("%d processes", procs))
	t.add("node idle memory: whole node", wrenMem.add(ctrdMem).add(podMem).String(), "wren + containerd + add-on pods, no workload")

	cs, err := s.client()
	if err != nil {
		return err
	}
	first, err := podStartLatencies(cs, "first", 1)
	if err != nil {
		return err
	}
	t.add("first pod: create → Running", ms(first[0]), "agnhost, image already imported")
	lat, err := podStartLatencies(cs, "batch", 30)
	if err != nil {
		return err
	}
	t.add("pod start latency, 30 pods created at once", fmt.Sprintf("p50 %s, p95 %s", ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100])), "create → Running")

	// What each running pod costs while nothing happens: the kubelet's and
	// containerd's per-container stats, probes and relists.
	time.Sleep(idle / 2)
	if before, err = nodeUsage(s.pid()); err != nil {
		return err
	}
	time.Sleep(idle)
	if after, err = nodeUsage(s.pid()); err != nil {
		return err
	}
	cpu, _ = after.sub(before).idleRates(idle)
	t.add(fmt.Sprintf("node idle CPU over %s with 31 pods: wren + containerd", idle), cpu, "the 30 pods above and the first, running agnhost pause")

	if err := s.stop(); err != nil {
		return err
	}
	begin = time.Now()
	warm, err := s.start()
	if err != nil {
		return fmt.Errorf("node warm start: %w", err)
	}
	t.add("node warm restart: exec → all components ready", ms(warm.allReady), "31 pods kept running")
	ready, err = s.waitNodeReady(begin)
	if err != nil {
		return err
	}
	t.add("node warm restart: exec → node Ready (fresh heartbeat)", ms(ready), "")
	addons, err = s.waitAddonsAvailable(begin)
	if err != nil {
		return err
	}
	t.add("node warm restart: exec → bundled add-ons Available", ms(addons), "their pods kept running")
	return nil
}

// waitNodeReady returns the time from since until the node reports Ready
// with a heartbeat newer than since.
func (s *server) waitNodeReady(since time.Time) (time.Duration, error) {
	cs, err := s.client()
	if err != nil {
		return 0, err
	}
	for time.Since(since) < 5*time.Minute {
		nodes, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err == nil {
			for _, n := range nodes.Items {
				for _, c := range n.Status.Conditions {
					if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue && c.LastHeartbeatTime.After(since.Add(-time.Second)) {
						return time.Since(since), nil
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0, errors.New("node not Ready within 5 minutes")
}

// podStartLatencies creates n pods at once and returns, sorted, how long each
// took from its create call to being seen Running.
func podStartLatencies(cs kubernetes.Interface, prefix string, n int) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w, err := cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{LabelSelector: "bench=" + prefix})
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	created := make([]time.Time, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: prefix + "-" + strconv.Itoa(i), Labels: map[string]string{"bench": prefix}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "agnhost", Image: agnhost, ImagePullPolicy: corev1.PullNever, Args: []string{"pause"},
				}}},
			}
			mu.Lock()
			created[i] = time.Now()
			mu.Unlock()
			if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	running := map[string]time.Duration{}
	for len(running) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil, errors.New("watch closed")
			}
			pod, isPod := ev.Object.(*corev1.Pod)
			if !isPod || ev.Type == watch.Deleted || pod.Status.Phase != corev1.PodRunning {
				continue
			}
			if _, seen := running[pod.Name]; !seen {
				i, _ := strconv.Atoi(strings.TrimPrefix(pod.Name, prefix+"-"))
				mu.Lock()
				running[pod.Name] = time.Since(created[i])
				mu.Unlock()
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d pods Running after 5 minutes", len(running), n)
		}
	}
	out := make([]time.Duration, 0, n)
	for _, d := range running {
		out = append(out, d)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out, nil
}

func containerdPID() int {
	pid, _ := hoststate.ContainerdPID()
	return pid
}

// snapshotHost records the sysctls and mount propagation a node changes and
// returns a function that restores them and removes the kubelet's directories.
func snapshotHost() func() {
	before := hoststate.Snapshot()
	return func() {
		before.Restore()
		for _, dir := range hoststate.NodeDirs {
			_ = os.RemoveAll(dir)
		}
	}
}

// nodeUsage is the CPU time and storage writes of wren and its containerd.
func nodeUsage(wrenPID int) (usage, error) {
	w, err := usageOf(wrenPID)
	if err != nil {
		return usage{}, err
	}
	c, err := usageOf(containerdPID())
	if err != nil {
		return usage{}, err
	}
	return w.add(c), nil
}
