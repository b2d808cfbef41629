//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/tests/testutil"
)

const webYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: agnhost
        image: ` + testutil.AgnhostImage + `
        imagePullPolicy: IfNotPresent
        args: [netexec, --http-port=8080]
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

// httpGet fetches url from the host.
func httpGet(url string) (string, error) {
	// A new connection each time, so a Service picks a backend each time.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %d", url, resp.StatusCode)
	}
	return string(b), err
}

func jsonpath(s *testutil.Server, path string, args ...string) string {
	return strings.TrimSpace(s.MustKubectl(append(args, "-o", "jsonpath="+path)...))
}

// waitPod waits until the pod's jsonpath expression equals want.
func waitPod(t *testing.T, s *testutil.Server, pod, path, want string) {
	t.Helper()
	waitJSONPath(t, s, want, path, "pod", pod)
}

// podState is what must survive a restart of wren: the pods' container IDs
// and restart counts.
func podState(t *testing.T, s *testutil.Server) string {
	t.Helper()
	out := s.MustKubectl("get", "pods", "-l", "app=web", "-o",
		`jsonpath={range .items[*]}{.metadata.name}={.status.containerStatuses[0].containerID}/{.status.containerStatuses[0].restartCount}{"\n"}{end}`)
	lines := strings.Fields(out)
	sort.Strings(lines)
	return strings.Join(lines, " ")
}

func TestNode(t *testing.T) {
	memhog := testutil.BuildGoBinary(t, "./tests/images/memhog")
	s := testutil.NewNode(t, "--node-label", "wren.test/zone=a", "--node-taint", "wren.test/dedicated=ci:PreferNoSchedule",
		"--kubelet-arg", "max-pods=50", "--node-external-ip", "203.0.113.10")
	images := filepath.Join(s.DataDir, "agent", "images")
	// A user's image in docker-archive format, gzipped; and a broken tarball.
	testutil.WriteDockerArchive(t, filepath.Join(images, "memhog.tar.gz"), "wren.test/memhog:1", memhog, "/memhog")
	require.NoError(t, os.WriteFile(filepath.Join(images, "broken.tar"), []byte("this is not a tarball"), 0o644))
	s.Start()
	s.WaitReady(3 * time.Minute)
	s.WaitNodeReady(3 * time.Minute)
	nodeIP := jsonpath(s, `{.items[0].status.addresses[?(@.type=="InternalIP")].address}`, "get", "nodes")

	t.Run("the node has a PodCIDR and the images", func(t *testing.T) {
		assert.Equal(t, "10.42.0.0/24", jsonpath(s, "{.items[0].spec.podCIDR}", "get", "nodes"))
		log, _ := os.ReadFile(s.LogPath)
		assert.Contains(t, string(log), "skipping image tarball")
		assert.Contains(t, string(log), filepath.Join(images, "broken.tar"))
		out, err := s.Crictl("images")
		require.NoError(t, err)
		for _, image := range []string{"registry.k8s.io/pause", "registry.k8s.io/e2e-test-images/agnhost", "wren.test/memhog"} {
			assert.Contains(t, out, image)
		}
	})

	t.Run("node flags: labels, taints, kubelet args, the control-plane role", func(t *testing.T) {
		assert.Equal(t, "a", jsonpath(s, `{.items[0].metadata.labels.wren\.test/zone}`, "get", "nodes"))
		assert.Equal(t, "true", jsonpath(s, `{.items[0].metadata.labels.node-role\.kubernetes\.io/control-plane}`, "get", "nodes"))
		assert.Equal(t, "wren.test/dedicated=ci:PreferNoSchedule",
			jsonpath(s, `{.items[0].spec.taints[0].key}={.items[0].spec.taints[0].value}:{.items[0].spec.taints[0].effect}`, "get", "nodes"))
		assert.Equal(t, "50", jsonpath(s, "{.items[0].status.capacity.pods}", "get", "nodes"))
		assert.Equal(t, "203.0.113.10", jsonpath(s, `{.items[0].status.addresses[?(@.type=="ExternalIP")].address}`, "get", "nodes"))
		assert.Equal(t, "wren://"+jsonpath(s, "{.items[0].metadata.name}", "get", "nodes"), jsonpath(s, "{.items[0].spec.providerID}", "get", "nodes"))
	})

	t.Run("the bundled pause image is pinned; ctr and crictl see the images", func(t *testing.T) {
		out, err := s.Crictl("inspecti", "registry.k8s.io/pause:3.10.2")
		require.NoError(t, err)
		assert.Contains(t, out, `"pinned": true`)
		ctr := exec.Command(testutil.Binary(t), "ctr", "images", "ls", "-q")
		b, err := ctr.CombinedOutput()
		require.NoError(t, err, string(b))
		assert.Contains(t, string(b), "wren.test/memhog:1")
	})

	t.Run("a deployment of 3 agnhost replicas runs", func(t *testing.T) {
		out, err := s.KubectlStdin(webYAML, "apply", "-f", "-")
		require.NoError(t, err, out)
		s.MustKubectl("rollout", "status", "deployment/web", "--timeout=180s")
		assert.Equal(t, "3", jsonpath(s, "{.status.readyReplicas}", "get", "deployment", "web"))
	})

	pods := strings.Fields(jsonpath(s, "{.items[*].metadata.name}", "get", "pods", "-l", "app=web"))
	podIPs := strings.Fields(jsonpath(s, "{.items[*].status.podIP}", "get", "pods", "-l", "app=web"))
	require.Len(t, pods, 3)

	t.Run("pods reach each other over pod IPs", func(t *testing.T) {
		for _, ip := range podIPs[1:] {
			s.MustKubectl("exec", pods[0], "--", "/agnhost", "connect", ip+":8080", "--timeout=5s")
		}
		out, err := httpGet("http://" + podIPs[1] + ":8080/hostname")
		require.NoError(t, err)
		assert.Equal(t, pods[1], out, "the host reaches a pod IP too")
	})

	t.Run("ClusterIP and NodePort reach the pods through kube-proxy", func(t *testing.T) {
		clusterIP := jsonpath(s, "{.spec.clusterIP}", "get", "service", "web")
		nodePort := jsonpath(s, "{.spec.ports[0].nodePort}", "get", "service", "web")
		seen := map[string]bool{}
		testutil.Eventually(t, 60*time.Second, 100*time.Millisecond, "every pod answers on the ClusterIP", func() error {
			out, err := httpGet("http://" + clusterIP + "/hostname")
			if err != nil {
				return err
			}
			seen[out] = true
			if len(seen) < 3 {
				return fmt.Errorf("answered so far: %v", seen)
			}
			return nil
		})
		out, err := httpGet("http://" + nodeIP + ":" + nodePort + "/hostname")
		require.NoError(t, err)
		assert.Contains(t, pods, out)
		s.MustKubectl("exec", pods[0], "--", "/agnhost", "connect", clusterIP+":80", "--timeout=5s")
	})

	t.Run("kubectl logs, exec and port-forward", func(t *testing.T) {
		assert.Contains(t, s.MustKubectl("logs", pods[0]), "Started HTTP server on port 8080")
		out := s.MustKubectl("exec", pods[0], "--", "/agnhost", "dns-suffix")
		assert.Contains(t, out, "cluster.local")

		port := testutil.FreePort(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pf := exec.CommandContext(ctx, testutil.Binary(t), "kubectl", "port-forward", "pod/"+pods[1], fmt.Sprintf("%d:8080", port))
		pf.Env = append(os.Environ(), "KUBECONFIG="+s.Kubeconfig)
		require.NoError(t, pf.Start())
		testutil.Eventually(t, 30*time.Second, 200*time.Millisecond, "port-forward answers", func() error {
			out, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/hostname", port))
			if err == nil && out != pods[1] {
				err = fmt.Errorf("answered %q", out)
			}
			return err
		})
		cancel()
		_ = pf.Wait()
	})

	t.Run("an init container, an emptyDir and a hostPath volume", func(t *testing.T) {
		hostDir := filepath.Join(s.Dir, "hostpath")
		require.NoError(t, os.MkdirAll(hostDir, 0o777))
		pod := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: volumes}
spec:
  restartPolicy: Never
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: host, hostPath: {path: %q, type: Directory}}
  initContainers:
  - name: init
    image: %s
    args: [mounttest, --new_file_0644=/scratch/from-init, --file_content=/scratch/from-init]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  containers:
  - name: main
    image: %s
    args: [mounttest, --file_content=/scratch/from-init, --new_file_0644=/host/from-pod]
    volumeMounts: [{name: scratch, mountPath: /scratch}, {name: host, mountPath: /host}]
`, hostDir, testutil.AgnhostImage, testutil.AgnhostImage)
		out, err := s.KubectlStdin(pod, "apply", "-f", "-")
		require.NoError(t, err, out)
		waitPod(t, s, "volumes", "{.status.phase}", "Succeeded")
		assert.Contains(t, s.MustKubectl("logs", "volumes", "-c", "main"), "mount-tester new file")
		assert.FileExists(t, filepath.Join(hostDir, "from-pod"), "the pod wrote through the hostPath")
	})

	t.Run("a failing liveness probe restarts the container", func(t *testing.T) {
		pod := `apiVersion: v1
kind: Pod
metadata: {name: liveness}
spec:
  containers:
  - name: liveness
    image: ` + testutil.AgnhostImage + `
    args: [liveness]
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
`
		out, err := s.KubectlStdin(pod, "apply", "-f", "-")
		require.NoError(t, err, out)
		// agnhost liveness answers 200 for 10 s, then 500.
		testutil.Eventually(t, 3*time.Minute, time.Second, "liveness restart", func() error {
			n := jsonpath(s, "{.status.containerStatuses[0].restartCount}", "get", "pod", "liveness")
			if n == "" || n == "0" {
				return fmt.Errorf("restartCount %q", n)
			}
			return nil
		})
	})

	t.Run("a pod over its memory limit is OOM-killed and restarted", func(t *testing.T) {
		pod := `apiVersion: v1
kind: Pod
metadata: {name: memhog}
spec:
  containers:
  - name: memhog
    image: wren.test/memhog:1
    imagePullPolicy: Never
    args: ["256", "16"]
    resources: {limits: {memory: 64Mi}}
`
		out, err := s.KubectlStdin(pod, "apply", "-f", "-")
		require.NoError(t, err, out)
		testutil.Eventually(t, 3*time.Minute, time.Second, "OOM kill and restart", func() error {
			reason := jsonpath(s, "{.status.containerStatuses[0].lastState.terminated.reason}", "get", "pod", "memhog")
			if reason != "OOMKilled" {
				return fmt.Errorf("last terminated reason %q", reason)
			}
			return nil
		})
		assert.NotEqual(t, "0", jsonpath(s, "{.status.containerStatuses[0].restartCount}", "get", "pod", "memhog"))
	})

	t.Run("SIGTERM: pods keep running, the node comes back Ready", func(t *testing.T) {
		// Enough pods that containerd's CRI takes a while to recover them
		// after the restart: the kubelet must wait for it, not fail.
		s.MustKubectl("create", "deployment", "many", "--image="+testutil.AgnhostImage, "--replicas=20", "--", "/agnhost", "pause")
		s.MustKubectl("rollout", "status", "deployment/many", "--timeout=180s")
		before := podState(t, s)
		s.Stop()
		out, err := httpGet("http://" + podIPs[0] + ":8080/hostname")
		require.NoError(t, err, "a pod answers while wren is down")
		assert.Equal(t, pods[0], out)
		s.Start()
		s.WaitReady(3 * time.Minute)
		s.WaitNodeReady(3 * time.Minute)
		assert.Equal(t, before, podState(t, s), "same containers, no restarts")
	})

	t.Run("SIGKILL: pods keep running, no duplicate sandboxes", func(t *testing.T) {
		before := podState(t, s)
		sandboxes, err := s.Crictl("pods", "-q")
		require.NoError(t, err)
		s.Kill()
		_, err = httpGet("http://" + podIPs[1] + ":8080/hostname")
		require.NoError(t, err, "a pod answers while wren is dead")
		s.Start()
		s.WaitReady(3 * time.Minute)
		s.WaitNodeReady(3 * time.Minute)
		s.MustKubectl("rollout", "status", "deployment/web", "--timeout=120s")
		assert.Equal(t, before, podState(t, s))
		after, err := s.Crictl("pods", "-q")
		require.NoError(t, err)
		assert.ElementsMatch(t, strings.Fields(sandboxes), strings.Fields(after))
	})
}
