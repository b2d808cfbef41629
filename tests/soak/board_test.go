// SPDX-License-Identifier: Apache-2.0

//go:build soak

// Package soak runs wren the way a small board would for a while: a server
// with its node, the add-ons and a workload inside 1 GiB of memory.
package soak

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wren-k8s/wren/tests/hoststate"
	"github.com/wren-k8s/wren/tests/testutil"
)

// boardMemory is a Raspberry Pi 3's memory.
const boardMemory = 1 << 30

// soakFor is how long the workload runs inside the limit.
var soakFor = 10 * time.Minute

const workload = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 5
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.63.0
        imagePullPolicy: Never
        args: [netexec, --http-port=8080]
        volumeMounts: [{name: data, mountPath: /data}]
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: data}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

// TestOneGiBBoard runs the server with its node, the bundled add-ons and a
// small workload (5 agnhost pods behind a Service, sharing a local-path
// volume) for soakFor inside a memory cgroup of 1 GiB that holds wren,
// containerd, the shims and every pod (the kubelet's cgroup root is inside
// it), and checks that nothing was OOM-killed or restarted and the API and
// the Service kept answering.
func TestOneGiBBoard(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a node and a memory cgroup need root")
	}
	if d := os.Getenv("WREN_SOAK_DURATION"); d != "" {
		var err error
		soakFor, err = time.ParseDuration(d)
		require.NoError(t, err, "WREN_SOAK_DURATION")
	}
	cg := newBoardCgroup(t, fmt.Sprintf("wren-board-%d", os.Getpid()), boardMemory)
	s := testutil.NewNode(t, "--kubelet-arg", "cgroup-root=/"+cg.name)
	s.Bin = cg.wrapper(t, testutil.Binary(t))
	s.Start()
	s.WaitReady(3 * time.Minute)
	s.WaitNodeReady(3 * time.Minute)
	wrenPID, ctrdPID := s.PID(), containerdPID(t)
	require.NotZero(t, ctrdPID)
	assert.True(t, cg.holds(wrenPID), "wren runs inside the board's cgroup")
	assert.True(t, cg.holds(ctrdPID), "containerd runs inside the board's cgroup")

	_, err := s.KubectlStdin(workload, "apply", "-f", "-")
	require.NoError(t, err)
	for _, d := range []string{"web", "coredns", "metrics-server"} {
		ns := "kube-system"
		if d == "web" {
			ns = "default"
		}
		s.MustKubectl("-n", ns, "rollout", "status", "deployment/"+d, "--timeout=3m")
	}
	clusterIP := strings.TrimSpace(s.MustKubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"))
	t.Logf("workload running; memory in the cgroup: %s (limit %s)", mib(cg.usage(t)), mib(boardMemory))

	cs := s.Client()
	// A new connection each time, so kube-proxy spreads them over the pods.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	hostnames := map[string]bool{}
	end := time.Now().Add(soakFor)
	var apiFailures, serviceFailures, rounds int
	for time.Now().Before(end) {
		rounds++
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); err != nil {
			apiFailures++
			t.Logf("API: %v", err)
		}
		cancel()
		for i := 0; i < 5; i++ {
			if name, err := get(client, "http://"+clusterIP+"/hostname"); err != nil {
				serviceFailures++
				t.Logf("Service: %v", err)
			} else {
				hostnames[name] = true
			}
		}
		require.Equal(t, wrenPID, s.PID(), "wren exited:\n%s", s.LogTail(60))
		time.Sleep(10 * time.Second)
	}
	t.Logf("%s in %d rounds: %d API failures, %d Service failures, %d pods answered; cgroup memory now %s, peak %s",
		soakFor, rounds, apiFailures, serviceFailures, len(hostnames), mib(cg.usage(t)), mib(cg.peak(t)))

	assert.Zero(t, cg.oomKills(t), "OOM kills inside the board's cgroup")
	assert.Equal(t, wrenPID, s.PID(), "wren kept running")
	assert.Equal(t, ctrdPID, containerdPID(t), "containerd was not restarted")
	// A rare slow answer on a shared machine is not a failure of the board.
	assert.LessOrEqual(t, apiFailures, 1, "API answered throughout")
	assert.LessOrEqual(t, serviceFailures, 1, "the Service answered throughout")
	assert.Len(t, hostnames, 5, "every pod answered through the Service")
	pods, err := cs.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	for _, p := range pods.Items {
		for _, c := range p.Status.ContainerStatuses {
			assert.Zero(t, c.RestartCount, "%s/%s container %s restarted (last state %+v)", p.Namespace, p.Name, c.Name, c.LastTerminationState)
		}
	}
	s.MustKubectl("get", "--raw", "/readyz")
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

func containerdPID(t *testing.T) int {
	pid, err := hoststate.ContainerdPID()
	if err != nil {
		t.Logf("containerd pid: %v", err)
	}
	return pid
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

// boardCgroup is one cgroup of the same name in every v1 hierarchy (the
// kubelet wants its cgroup root in all of them); the memory one is limited.
type boardCgroup struct {
	name string
	dirs []string // one per hierarchy, memory's first
}

const cgroupRoot = "/sys/fs/cgroup"

func newBoardCgroup(t *testing.T, name string, limit int64) *boardCgroup {
	mem := filepath.Join(cgroupRoot, "memory")
	if _, err := os.Stat(filepath.Join(mem, "memory.limit_in_bytes")); err != nil {
		t.Skip("needs the cgroup v1 memory controller at " + mem)
	}
	cg := &boardCgroup{name: name}
	t.Cleanup(cg.remove)
	hierarchies, err := os.ReadDir(cgroupRoot)
	require.NoError(t, err)
	order := []string{"memory"}
	for _, h := range hierarchies {
		if h.IsDir() && h.Name() != "memory" && h.Name() != "unified" {
			order = append(order, h.Name())
		}
	}
	for _, h := range order {
		dir := filepath.Join(cgroupRoot, h, name)
		require.NoError(t, os.Mkdir(dir, 0o755), "cgroup %s", dir)
		cg.dirs = append(cg.dirs, dir)
		if h == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				b, err := os.ReadFile(filepath.Join(cgroupRoot, h, f))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
			}
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(cg.dirs[0], "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0o644))
	return cg
}

// wrapper writes a script that moves itself into the cgroup and execs bin,
// so wren and everything it starts (containerd, shims) are inside from the
// first instruction.
func (cg *boardCgroup) wrapper(t *testing.T, bin string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\nset -e\n")
	for _, d := range cg.dirs {
		fmt.Fprintf(&b, "echo $$ > %s/cgroup.procs\n", d)
	}
	fmt.Fprintf(&b, "exec %s \"$@\"\n", bin)
	path := filepath.Join(t.TempDir(), "wren-in-board")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o755))
	return path
}

func (cg *boardCgroup) holds(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && strings.Contains(string(b), ":memory:/"+cg.name)
}

func (cg *boardCgroup) readInt(t *testing.T, file string) int64 {
	b, err := os.ReadFile(filepath.Join(cg.dirs[0], file))
	require.NoError(t, err)
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	require.NoError(t, err)
	return n
}

func (cg *boardCgroup) usage(t *testing.T) int64 { return cg.readInt(t, "memory.usage_in_bytes") }
func (cg *boardCgroup) peak(t *testing.T) int64  { return cg.readInt(t, "memory.max_usage_in_bytes") }

// oomKills adds up the OOM kills recorded in the memory cgroup and every
// cgroup below it (the pods').
func (cg *boardCgroup) oomKills(t *testing.T) int {
	total := 0
	err := filepath.WalkDir(cg.dirs[0], func(path string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "memory.oom_control" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
				n, _ := strconv.Atoi(v)
				if n > 0 {
					t.Logf("%s: %d OOM kills", filepath.Dir(path), n)
				}
				total += n
			}
		}
		return nil
	})
	require.NoError(t, err)
	return total
}

// remove deletes the cgroups, deepest first (the kubelet's pod cgroups are
// below them), once the processes are gone.
func (cg *boardCgroup) remove() {
	// The kubelet also makes its cgroup root in the v2 hierarchy (hugetlb).
	for _, dir := range append(cg.dirs, filepath.Join(cgroupRoot, "unified", cg.name)) {
		var dirs []string
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			for try := 0; try < 50; try++ {
				if err := os.Remove(dirs[i]); err == nil || os.IsNotExist(err) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}
