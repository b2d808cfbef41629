// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// benchAgent measures `wren agent` joining a control-plane-only server on
// this host: exec → node Ready (cold, warm), the agent's idle memory, and the
// `kubectl exec` round trip through the tunnel against a direct connection
// (the same server restarted with --egress-selector-mode disabled).
func benchAgent(t *table, bin string, idle time.Duration) error {
	restore := snapshotHost()
	defer restore()
	srv, err := newServer(bin, false)
	if err != nil {
		return err
	}
	defer srv.close()
	srv.extra = []string{"--disable", "coredns,metrics-server,local-storage,servicelb,helm-controller"}
	if _, err := srv.start(); err != nil {
		return fmt.Errorf("server for the agent: %w", err)
	}
	tok, err := os.ReadFile(filepath.Join(srv.dir, "data", "server", "token"))
	if err != nil {
		return err
	}
	ag, err := newServer(bin, true)
	if err != nil {
		return err
	}
	defer ag.close()
	ag.joinURL, ag.token = fmt.Sprintf("https://127.0.0.1:%d", srv.port), strings.TrimSpace(string(tok))
	ag.kubeconfig = srv.kubeconfig

	begin := time.Now()
	if _, err := ag.start(); err != nil {
		return fmt.Errorf("agent cold start: %w", err)
	}
	ready, err := srv.waitNodeReady(begin)
	if err != nil {
		return err
	}
	t.add("agent cold start: exec → node Ready", ms(ready), "payload extraction and image import included")

	fmt.Fprintf(os.Stderr, "idling %s before measuring the agent's memory...\n", idle)
	time.Sleep(idle)
	wrenMem, err := memoryOf(ag.pid())
	if err != nil {
		return err
	}
	ctrdMem, err := memoryOf(containerdPID())
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("agent idle memory after %s: wren agent (RSS / PSS / anon)", idle), wrenMem.String(), "kubelet + kube-proxy + flannel + tunnel + load balancer")
	t.add(fmt.Sprintf("agent idle memory after %s: wren agent + containerd", idle), wrenMem.add(ctrdMem).String(), "goal: PSS ≤ 120 MB; k3s agent published at 275 MB")

	cs, err := srv.client()
	if err != nil {
		return err
	}
	if _, err := podStartLatencies(cs, "exec", 1); err != nil {
		return err
	}
	tunnel, err := execRoundTrips(bin, srv.kubeconfig, "exec-0", 20)
	if err != nil {
		return err
	}
	if err := startLogsPod(cs); err != nil {
		return err
	}
	tunnelLogs, err := logsThroughput(bin, srv.kubeconfig, 3)
	if err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return err
	}
	srv.extra = append(srv.extra, "--egress-selector-mode", "disabled")
	if _, err := srv.start(); err != nil {
		return err
	}
	direct, err := execRoundTrips(bin, srv.kubeconfig, "exec-0", 20)
	if err != nil {
		return err
	}
	directLogs, err := logsThroughput(bin, srv.kubeconfig, 3)
	if err != nil {
		return err
	}
	t.add("kubectl exec round trip, pod on the agent: through the tunnel", fmt.Sprintf("p50 %s", ms(tunnel)), "20 runs, each a kubectl process")
	t.add("kubectl exec round trip, pod on the agent: direct to the kubelet", fmt.Sprintf("p50 %s", ms(direct)), "--egress-selector-mode disabled")
	t.add("kubectl logs -f throughput, pod on the agent: through the tunnel", tunnelLogs, "best of 3; a finished container's ~8 MB log")
	t.add("kubectl logs -f throughput, pod on the agent: direct to the kubelet", directLogs, "--egress-selector-mode disabled")

	if err := ag.stop(); err != nil {
		return err
	}
	begin = time.Now()
	if _, err := ag.start(); err != nil {
		return fmt.Errorf("agent warm start: %w", err)
	}
	ready, err = srv.waitNodeReady(begin)
	if err != nil {
		return err
	}
	t.add("agent warm restart: exec → node Ready (fresh heartbeat)", ms(ready), "its pod kept running")
	for _, p := range []string{"exec-0", "logs"} {
		_ = cs.CoreV1().Pods("default").Delete(context.Background(), p, metav1.DeleteOptions{})
	}
	return nil
}

// startLogsPod runs a pod that writes ~8 MB of log lines and exits (below
// the kubelet's 10 MiB log rotation), and waits for it to finish.
func startLogsPod(cs kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "logs"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "logs", Image: agnhost, ImagePullPolicy: corev1.PullNever,
			Args: []string{"logs-generator", "--log-lines-total", "80000", "--run-duration", "1s"},
		}}},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return err
	}
	for {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "logs", metav1.GetOptions{})
		if err == nil && (p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("logs pod did not finish: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// logsThroughput streams the logs pod's log with `kubectl logs -f` n times
// and returns the best rate.
func logsThroughput(bin, kubeconfig string, n int) (string, error) {
	best, size := time.Duration(0), 0
	for range n {
		begin := time.Now()
		cmd := exec.Command(bin, "kubectl", "logs", "-f", "logs")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("kubectl logs -f: %v", err)
		}
		if d := time.Since(begin); best == 0 || d < best {
			best, size = d, len(out)
		}
	}
	return fmt.Sprintf("%.1f MB/s (%.1f MB in %s)", float64(size)/1e6/best.Seconds(), float64(size)/1e6, ms(best)), nil
}

// execRoundTrips runs `kubectl exec pod -- /agnhost --help` (a no-op) n
// times and returns the median duration.
func execRoundTrips(bin, kubeconfig, pod string, n int) (time.Duration, error) {
	var ds []time.Duration
	for range n {
		begin := time.Now()
		cmd := exec.Command(bin, "kubectl", "exec", pod, "--", "/agnhost", "--help")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("kubectl exec: %v: %s", err, out)
		}
		ds = append(ds, time.Since(begin))
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[len(ds)/2], nil
}
