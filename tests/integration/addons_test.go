//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wren-k8s/wren/tests/testutil"
)

// toolboxImage is the test image built from tests/images/toolbox.
const toolboxImage = "wren.test/toolbox:1"

// bridgeIP is the host's address on the pod bridge of the first node
// (PodCIDR 10.42.0.0/24): pods reach the host, and the test's upstream DNS
// server, there.
const bridgeIP = "10.42.0.1"

// addonsYAML is a pod with a hostname and subdomain (and the headless
// Service that gives it a DNS name), a plain Service, and a pod with a
// local-path volume.
const addonsYAML = `apiVersion: v1
kind: Service
metadata: {name: sub, namespace: default}
spec:
  clusterIP: None
  selector: {app: dnsbox}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: greet, namespace: default}
spec:
  selector: {app: nothing}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: dnsbox, namespace: default, labels: {app: dnsbox}}
spec:
  hostname: box
  subdomain: sub
  terminationGracePeriodSeconds: 1
  containers:
  - {name: toolbox, image: ` + toolboxImage + `, imagePullPolicy: Never, args: [sleep]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
`

// volumePod uses the PVC claim (no storageClassName: the default class).
func volumePod(name, claim string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `, namespace: default}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: toolbox
    image: ` + toolboxImage + `
    imagePullPolicy: Never
    args: [sleep]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: ` + claim + `}}
`
}

// mountTmpfs mounts a small tmpfs at dir (the node's volume storage, so a
// test can fill it); the cleanup, registered before the node's, unmounts it
// after the node stopped.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64m,nr_inodes=4096,mode=0755"))
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fillInodes creates empty files in dir until the file system has no inode
// left, and returns a function that removes them.
func fillInodes(t *testing.T, dir string) func() {
	t.Helper()
	filler := filepath.Join(dir, "filler")
	require.NoError(t, os.Mkdir(filler, 0o755))
	for i := 0; ; i++ {
		f, err := os.Create(filepath.Join(filler, strconv.Itoa(i)))
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		require.NoError(t, err)
		f.Close()
	}
	return func() { require.NoError(t, os.RemoveAll(filler)) }
}

// toolboxRun runs the toolbox in a pod.
func toolboxRun(s *testutil.Server, pod string, args ...string) (string, error) {
	out, err := s.Kubectl(append([]string{"exec", pod, "--", "/toolbox"}, args...)...)
	return strings.TrimSpace(out), err
}

// waitLookup waits until name resolves to want inside the pod.
func waitLookup(t *testing.T, s *testutil.Server, pod, name, want string) {
	t.Helper()
	testutil.Eventually(t, 2*time.Minute, 2*time.Second, "lookup "+name, func() error {
		out, err := toolboxRun(s, pod, "lookup", name)
		if err != nil || out != want {
			return fmt.Errorf("got %q (%v), want %q", out, err, want)
		}
		return nil
	})
}

// waitGone waits until `kubectl get args` reports NotFound.
func waitGone(t *testing.T, s *testutil.Server, args ...string) {
	t.Helper()
	testutil.Eventually(t, 2*time.Minute, time.Second, strings.Join(args, " ")+" removed", func() error {
		out, err := s.Kubectl(append([]string{"get"}, args...)...)
		if err != nil && strings.Contains(out, "NotFound") {
			return nil
		}
		return fmt.Errorf("still there: %s (%v)", out, err)
	})
}

// waitJSONPath waits until `kubectl get args -o jsonpath=path` prints want.
func waitJSONPath(t *testing.T, s *testutil.Server, want, path string, args ...string) {
	t.Helper()
	testutil.Eventually(t, 3*time.Minute, time.Second, strings.Join(args, " ")+" "+path+"="+want, func() error {
		out, err := s.Kubectl(append([]string{"get"}, append(args, "-o", "jsonpath="+path)...)...)
		if err != nil || strings.TrimSpace(out) != want {
			return fmt.Errorf("got %q (%v)", out, err)
		}
		return nil
	})
}

func TestAddons(t *testing.T) {
	toolbox := testutil.BuildGoBinary(t, "./tests/images/toolbox")
	storage := t.TempDir()
	mountTmpfs(t, storage)
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	require.NoError(t, os.WriteFile(resolv, []byte("nameserver "+bridgeIP+"\n"), 0o644))
	upstream := testutil.StartDNSServer(t, bridgeIP+":53", map[string]string{"external.wren.test": "192.0.2.99"})

	s := testutil.NewNode(t, "--resolv-conf", resolv, "--default-local-storage-path", storage)
	testutil.WriteDockerArchive(t, filepath.Join(s.DataDir, "agent", "images", "toolbox.tar.gz"), toolboxImage, toolbox, "/toolbox")
	s.Start()
	s.WaitReady(3 * time.Minute)
	s.WaitNodeReady(3 * time.Minute)
	nodeName := jsonpath(s, "{.items[0].metadata.name}", "get", "nodes")
	nodeIP := jsonpath(s, `{.items[0].status.addresses[?(@.type=="InternalIP")].address}`, "get", "nodes")
	manifests := filepath.Join(s.DataDir, "server", "manifests")

	t.Run("the bundled add-ons become Available from bundled images", func(t *testing.T) {
		s.MustKubectl("-n", "kube-system", "wait", "--for=condition=Available", "--timeout=240s",
			"deployment/coredns", "deployment/metrics-server")
		out, err := s.Crictl("images")
		require.NoError(t, err)
		for _, image := range []string{"wrenk8s/coredns", "wrenk8s/metrics-server", "wrenk8s/local-path-helper"} {
			assert.Contains(t, out, image)
		}
		// CoreDNS and metrics-server run the node's own wren program.
		for _, container := range []string{"coredns", "metrics-server"} {
			assertRunsWren(t, s, container)
		}
		assert.Empty(t, s.MustKubectl("get", "events", "-A", "--field-selector", "reason=Pulling", "-o", "name"), "no image is pulled")
		for _, f := range []string{"coredns.yaml", "local-storage.yaml", "metrics-server.yaml"} {
			assert.FileExists(t, filepath.Join(manifests, f))
		}
	})

	out, err := s.KubectlStdin(addonsYAML, "apply", "-f", "-")
	require.NoError(t, err, out)
	waitPod(t, s, "dnsbox", "{.status.phase}", "Running")

	t.Run("DNS: cluster names, the node's name, external names through the upstream resolver, coredns-custom", func(t *testing.T) {
		resolvConf, err := toolboxRun(s, "dnsbox", "cat", "/etc/resolv.conf")
		require.NoError(t, err)
		assert.Contains(t, resolvConf, "nameserver 10.43.0.10")
		assert.Contains(t, resolvConf, "search default.svc.cluster.local svc.cluster.local cluster.local")
		waitLookup(t, s, "dnsbox", "kubernetes.default", "10.43.0.1")
		greetIP := jsonpath(s, "{.spec.clusterIP}", "get", "service", "greet")
		waitLookup(t, s, "dnsbox", "greet", greetIP)
		waitLookup(t, s, "dnsbox", "greet.default.svc.cluster.local", greetIP)
		waitLookup(t, s, "dnsbox", "box.sub.default.svc.cluster.local", jsonpath(s, "{.status.podIP}", "get", "pod", "dnsbox"))
		waitLookup(t, s, "dnsbox", nodeName, nodeIP)
		waitLookup(t, s, "dnsbox", "external.wren.test", "192.0.2.99")
		assert.Positive(t, upstream.Queries.Load(), "the external name was answered by the test's upstream")
		out, err := toolboxRun(s, "dnsbox", "lookup", "missing.wren.test")
		assert.Error(t, err, "an unknown name does not resolve")
		assert.Contains(t, out, "no such host")

		// The user's hook: server blocks from the coredns-custom ConfigMap.
		out, err = s.KubectlStdin(`apiVersion: v1
kind: ConfigMap
metadata: {name: coredns-custom, namespace: kube-system}
data:
  wren.server: |
    custom.wren.test:53 {
        hosts {
            192.0.2.77 host.custom.wren.test
        }
    }
`, "apply", "-f", "-")
		require.NoError(t, err, out)
		s.MustKubectl("-n", "kube-system", "rollout", "restart", "deployment/coredns")
		s.MustKubectl("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s")
		waitLookup(t, s, "dnsbox", "host.custom.wren.test", "192.0.2.77")
		waitLookup(t, s, "dnsbox", "kubernetes.default", "10.43.0.1")
	})

	t.Run("a local-path volume keeps its data across pod recreation", func(t *testing.T) {
		out, err := s.KubectlStdin(volumePod("writer", "data"), "apply", "-f", "-")
		require.NoError(t, err, out)
		waitPod(t, s, "writer", "{.status.phase}", "Running")
		assert.Equal(t, "local-path", jsonpath(s, "{.spec.storageClassName}", "get", "pvc", "data"))
		_, err = toolboxRun(s, "writer", "write", "/data/hello", "persisted")
		require.NoError(t, err)
		files, _ := filepath.Glob(filepath.Join(storage, "pvc-*_default_data", "hello"))
		require.Len(t, files, 1, "the data is under --default-local-storage-path")
		s.MustKubectl("delete", "pod", "writer", "--wait=true")
		out, err = s.KubectlStdin(volumePod("writer", "data"), "apply", "-f", "-")
		require.NoError(t, err, out)
		waitPod(t, s, "writer", "{.status.phase}", "Running")
		got, err := toolboxRun(s, "writer", "cat", "/data/hello")
		require.NoError(t, err)
		assert.Equal(t, "persisted", got)
		pv := jsonpath(s, "{.spec.volumeName}", "get", "pvc", "data")
		assert.Equal(t, "rancher.io/local-path", jsonpath(s, `{.metadata.annotations.pv\.kubernetes\.io/provisioned-by}`, "get", "pv", pv))
	})

	t.Run("deleting a claim removes its directory", func(t *testing.T) {
		out, err := s.KubectlStdin(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: scratch, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
---
`+volumePod("scratch", "scratch"), "apply", "-f", "-")
		require.NoError(t, err, out)
		waitPod(t, s, "scratch", "{.status.phase}", "Running")
		dirs, _ := filepath.Glob(filepath.Join(storage, "pvc-*_default_scratch"))
		require.Len(t, dirs, 1)
		s.MustKubectl("delete", "pod", "scratch", "--wait=true")
		s.MustKubectl("delete", "pvc", "scratch", "--wait=true")
		testutil.Eventually(t, 2*time.Minute, time.Second, "the volume directory removed", func() error {
			if _, err := os.Stat(dirs[0]); err == nil {
				return fmt.Errorf("%s still exists", dirs[0])
			}
			return nil
		})
	})

	t.Run("a full disk while provisioning gives a clear event on the claim", func(t *testing.T) {
		release := fillInodes(t, storage)
		defer release()
		out, err := s.KubectlStdin(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: full, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
---
`+volumePod("fullpod", "full"), "apply", "-f", "-")
		require.NoError(t, err, out)
		testutil.Eventually(t, 3*time.Minute, 2*time.Second, "ProvisioningFailed event", func() error {
			out := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=full,reason=ProvisioningFailed",
				"-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}")
			if !strings.Contains(out, "no space left on device") {
				return fmt.Errorf("events: %q", out)
			}
			return nil
		})
		s.MustKubectl("delete", "pod", "fullpod", "--wait=false")
		s.MustKubectl("delete", "pvc", "full", "--wait=false")
	})

	t.Run("kubectl top shows node and pod metrics", func(t *testing.T) {
		testutil.Eventually(t, 3*time.Minute, 5*time.Second, "kubectl top nodes", func() error {
			out, err := s.Kubectl("top", "nodes", "--no-headers")
			f := strings.Fields(out)
			if err != nil || len(f) < 5 || f[0] != nodeName || !strings.HasSuffix(f[1], "m") || !strings.HasSuffix(f[3], "Mi") {
				return fmt.Errorf("%q (%v)", out, err)
			}
			return nil
		})
		testutil.Eventually(t, 2*time.Minute, 5*time.Second, "kubectl top pods", func() error {
			out, err := s.Kubectl("top", "pods", "-n", "kube-system", "--no-headers")
			if err != nil || !strings.Contains(out, "coredns-") {
				return fmt.Errorf("%q (%v)", out, err)
			}
			return nil
		})
	})

	t.Run("a LoadBalancer Service answers on the node IP", func(t *testing.T) {
		port := testutil.FreePort(t)
		out, err := s.KubectlStdin(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: lbweb, namespace: default, labels: {app: lbweb}}
spec:
  containers:
  - {name: agnhost, image: %s, imagePullPolicy: IfNotPresent, args: [netexec, --http-port=8080]}
---
apiVersion: v1
kind: Service
metadata: {name: lbweb, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: lbweb}
  ports: [{port: %d, targetPort: 8080}]
`, testutil.AgnhostImage, port), "apply", "-f", "-")
		require.NoError(t, err, out)
		waitJSONPath(t, s, nodeIP, "{.status.loadBalancer.ingress[0].ip}", "service", "lbweb")
		testutil.Eventually(t, 2*time.Minute, time.Second, "LoadBalancer answers", func() error {
			body, err := httpGet(fmt.Sprintf("http://%s:%d/hostname", nodeIP, port))
			if err != nil || body != "lbweb" {
				return fmt.Errorf("%q (%v)", body, err)
			}
			return nil
		})
	})

	t.Run("HelmChart: install, upgrade, merge a HelmChartConfig, uninstall", func(t *testing.T) {
		chartPath := testutil.HelmChart(t, t.TempDir(), "0.1.0")
		raw, err := os.ReadFile(chartPath)
		require.NoError(t, err)
		apply := func(valuesContent string) {
			out, err := s.KubectlStdin(fmt.Sprintf(`apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: greeter, namespace: kube-system}
spec:
  targetNamespace: default
  chartContent: %s
  valuesContent: |-
    %s
`, base64.StdEncoding.EncodeToString(raw), valuesContent), "apply", "-f", "-")
			require.NoError(t, err, out)
		}
		apply("greeting: hi")
		waitJSONPath(t, s, "hi/blue", "{.data.greeting}/{.data.color}", "configmap", "greeter-greeting")
		waitJSONPath(t, s, "True", `{.status.conditions[?(@.type=="Ready")].status}`, "-n", "kube-system", "helmchart", "greeter")

		apply("greeting: hello again")
		waitJSONPath(t, s, "hello again/blue", "{.data.greeting}/{.data.color}", "configmap", "greeter-greeting")
		waitJSONPath(t, s, "2", "{.status.revision}", "-n", "kube-system", "helmchart", "greeter")

		out, err := s.KubectlStdin(`apiVersion: helm.cattle.io/v1
kind: HelmChartConfig
metadata: {name: greeter, namespace: kube-system}
spec:
  valuesContent: "color: red"
`, "apply", "-f", "-")
		require.NoError(t, err, out)
		waitJSONPath(t, s, "hello again/red", "{.data.greeting}/{.data.color}", "configmap", "greeter-greeting")

		s.MustKubectl("-n", "kube-system", "delete", "helmchart", "greeter", "--timeout=120s")
		waitGone(t, s, "configmap", "greeter-greeting")
		assert.Empty(t, s.MustKubectl("get", "secrets", "-A", "-l", "owner=helm,name=greeter", "-o", "name"), "the release is gone")
	})

	t.Run("HelmChart from a repository and from the server's own /static/", func(t *testing.T) {
		dir := t.TempDir()
		v1 := testutil.HelmChart(t, dir, "0.1.0")
		v2 := testutil.HelmChart(t, dir, "0.2.0")
		repoURL := testutil.ServeHelmRepo(t, v1, v2)
		static := filepath.Join(s.DataDir, "server", "static", "charts")
		require.NoError(t, os.MkdirAll(static, 0o755))
		b, err := os.ReadFile(v2)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(static, "greeter-0.2.0.tgz"), b, 0o644))

		out, err := s.KubectlStdin(`apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: from-repo, namespace: kube-system}
spec:
  repo: `+repoURL+`
  chart: greeter
  version: 0.1.0
  targetNamespace: default
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: from-static, namespace: kube-system}
spec:
  chart: https://%{KUBERNETES_API}%/static/charts/greeter-0.2.0.tgz
  targetNamespace: default
  set: {greeting: served}
`, "apply", "-f", "-")
		require.NoError(t, err, out)
		waitJSONPath(t, s, "hello/0.1.0", "{.data.greeting}/{.data.chartVersion}", "configmap", "from-repo-greeting")
		waitJSONPath(t, s, "served/0.2.0", "{.data.greeting}/{.data.chartVersion}", "configmap", "from-static-greeting")
		s.MustKubectl("-n", "kube-system", "patch", "helmchart", "from-repo", "--type=merge", "-p", `{"spec":{"version":"0.2.0"}}`)
		waitJSONPath(t, s, "hello/0.2.0", "{.data.greeting}/{.data.chartVersion}", "configmap", "from-repo-greeting")
		s.MustKubectl("-n", "kube-system", "delete", "helmchart", "from-repo", "from-static", "--timeout=120s")
		waitGone(t, s, "configmap", "from-repo-greeting")
		waitGone(t, s, "configmap", "from-static-greeting")
	})

	t.Run("a broken chart or bad values end in a Failed condition with the reason, and are retried", func(t *testing.T) {
		chartPath := testutil.HelmChart(t, t.TempDir(), "0.1.0")
		raw, err := os.ReadFile(chartPath)
		require.NoError(t, err)
		out, err := s.KubectlStdin(fmt.Sprintf(`apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: broken, namespace: kube-system}
spec:
  chartContent: %s
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata: {name: badvalues, namespace: kube-system}
spec:
  targetNamespace: default
  chartContent: %s
  valuesContent: "greeting: null"
`, base64.StdEncoding.EncodeToString([]byte("this is not a chart")), base64.StdEncoding.EncodeToString(raw)), "apply", "-f", "-")
		require.NoError(t, err, out)
		failed := `{.status.conditions[?(@.type=="Failed")].status}/{.status.conditions[?(@.type=="Failed")].reason}`
		waitJSONPath(t, s, "True/ChartUnavailable", failed, "-n", "kube-system", "helmchart", "broken")
		waitJSONPath(t, s, "True/InstallFailed", failed, "-n", "kube-system", "helmchart", "badvalues")
		assert.Contains(t, jsonpath(s, `{.status.conditions[?(@.type=="Failed")].message}`, "get", "-n", "kube-system", "helmchart", "badvalues"),
			"greeting is required")
		testutil.Eventually(t, 2*time.Minute, 2*time.Second, "the broken chart is retried", func() error {
			out := s.MustKubectl("-n", "kube-system", "get", "events", "--field-selector", "involvedObject.name=broken,reason=ChartUnavailable",
				"-o", "jsonpath={range .items[*]}{.count}{\" \"}{end}")
			attempts := 0
			for _, c := range strings.Fields(out) {
				n, _ := strconv.Atoi(c)
				attempts += n
			}
			if attempts < 2 {
				return fmt.Errorf("%d attempts", attempts)
			}
			return nil
		})
		// Fixing the values is picked up: the failure was not final.
		s.MustKubectl("-n", "kube-system", "patch", "helmchart", "badvalues", "--type=merge", "-p", `{"spec":{"valuesContent":"greeting: fixed"}}`)
		waitJSONPath(t, s, "fixed", "{.data.greeting}", "configmap", "badvalues-greeting")
		waitJSONPath(t, s, "True", `{.status.conditions[?(@.type=="Ready")].status}`, "-n", "kube-system", "helmchart", "badvalues")
		s.MustKubectl("-n", "kube-system", "delete", "helmchart", "broken", "badvalues", "--timeout=120s")
	})

	t.Run("user manifests: applied, updated, pruned, removed; a malformed file is reported and skipped", func(t *testing.T) {
		team := filepath.Join(manifests, "team.yaml")
		require.NoError(t, os.WriteFile(team, []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: team-a, namespace: default}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: team-b, namespace: default}
data: {v: "1"}
`), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(manifests, "broken.yaml"), []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
data:
  key: [unclosed
`), 0o644))
		waitJSONPath(t, s, "1/1", "{.items[0].data.v}/{.items[1].data.v}", "configmap", "team-a", "team-b")
		testutil.Eventually(t, time.Minute, time.Second, "ApplyFailed event naming the file and line", func() error {
			out := s.MustKubectl("-n", "kube-system", "get", "events", "--field-selector", "reason=ApplyFailed,involvedObject.name=wren-addon-broken",
				"-o", "jsonpath={.items[*].message}")
			if !strings.Contains(out, filepath.Join(manifests, "broken.yaml")) || !strings.Contains(out, "line 6") {
				return fmt.Errorf("events: %q", out)
			}
			return nil
		})
		log, _ := os.ReadFile(s.LogPath)
		assert.True(t, strings.Contains(string(log), `err="broken.yaml: line 6: did not find expected`), "the log names the file and line")

		require.NoError(t, os.WriteFile(team, []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: team-a, namespace: default}
data: {v: "2"}
`), 0o644))
		waitJSONPath(t, s, "2", "{.data.v}", "configmap", "team-a")
		waitGone(t, s, "configmap", "team-b")
		require.NoError(t, os.Remove(team))
		require.NoError(t, os.Remove(filepath.Join(manifests, "broken.yaml")))
		waitGone(t, s, "configmap", "team-a")
	})

	t.Run("a user's edit of the staged CoreDNS manifest survives a restart", func(t *testing.T) {
		path := filepath.Join(manifests, "coredns.yaml")
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		edited := strings.Replace(string(b), "cache 30", "cache 31", 1)
		require.NotEqual(t, string(b), edited)
		require.NoError(t, os.WriteFile(path, []byte(edited), 0o644))
		testutil.Eventually(t, time.Minute, time.Second, "the edit applied", func() error {
			if !strings.Contains(jsonpath(s, "{.data.Corefile}", "get", "-n", "kube-system", "configmap", "coredns"), "cache 31") {
				return fmt.Errorf("not yet")
			}
			return nil
		})
		s.Restart()
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, edited, string(after))
		assert.FileExists(t, path+".bundled", "the bundled version is put next to the user's")
		time.Sleep(6 * time.Second) // one pass of the deploy controller after the restart
		assert.Contains(t, jsonpath(s, "{.data.Corefile}", "get", "-n", "kube-system", "configmap", "coredns"), "cache 31")
	})

	t.Run("--disable removes each add-on", func(t *testing.T) {
		s.Args = append(s.Args, "--disable", "coredns,local-storage,metrics-server,servicelb,helm-controller")
		s.Restart()
		log, err := os.ReadFile(s.LogPath)
		require.NoError(t, err)
		thisRun := string(log[strings.LastIndex(string(log), "==== start"):])
		assert.NotContains(t, thisRun, "component=helm-controller", "the Helm controller does not run")
		assert.Contains(t, thisRun, "component=deploy", "the deploy controller still runs")
		waitGone(t, s, "-n", "kube-system", "deployment", "coredns")
		waitGone(t, s, "-n", "kube-system", "deployment", "metrics-server")
		waitGone(t, s, "storageclass", "local-path")
		waitGone(t, s, "apiservice", "v1beta1.metrics.k8s.io")
		waitJSONPath(t, s, "", "{.status.loadBalancer.ingress}", "service", "lbweb")
		for _, f := range []string{"coredns.yaml", "local-storage.yaml", "metrics-server.yaml"} {
			assert.NoFileExists(t, filepath.Join(manifests, f))
		}
		assert.FileExists(t, filepath.Join(manifests, "coredns.yaml.disabled"), "the user's edited file is kept aside")
	})
}

// assertRunsWren checks that a container's process runs the very file of
// the node's current release, mounted into it.
func assertRunsWren(t *testing.T, s *testutil.Server, container string) {
	t.Helper()
	id, err := s.Crictl("ps", "--name", container, "-q")
	require.NoError(t, err)
	id = strings.Fields(id + " ")[0]
	pid, err := s.Crictl("inspect", "-o", "go-template", "--template", "{{.info.pid}}", id)
	require.NoError(t, err, pid)
	var exe, wren syscall.Stat_t
	require.NoError(t, syscall.Stat("/proc/"+strings.TrimSpace(pid)+"/exe", &exe))
	require.NoError(t, syscall.Stat(filepath.Join(s.DataDir, "data", "current", "bin", "wren"), &wren))
	assert.Equal(t, [2]uint64{wren.Dev, wren.Ino}, [2]uint64{exe.Dev, exe.Ino}, "%s runs %s", container, "data/current/bin/wren")
}
