//go:build e2e

// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wren-k8s/wren/pkg/token"
	"github.com/wren-k8s/wren/tests/testutil"
)

// daemonSet runs agnhost's netexec and the toolbox on every node.
const daemonSet = `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: everywhere, namespace: default}
spec:
  selector: {matchLabels: {app: everywhere}}
  template:
    metadata: {labels: {app: everywhere}}
    spec:
      tolerations: [{operator: Exists}]
      containers:
      - {name: netexec, image: ` + testutil.AgnhostImage + `, imagePullPolicy: Never, args: [netexec, --http-port=8080]}
      - {name: toolbox, image: ` + toolboxImage + `, imagePullPolicy: Never, args: [sleep]}
---
apiVersion: v1
kind: Service
metadata: {name: everywhere, namespace: default}
spec:
  type: NodePort
  selector: {app: everywhere}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
`

// lbService is a LoadBalancer Service on the DaemonSet: ServiceLB gives it
// every node's address.
const lbService = `
apiVersion: v1
kind: Service
metadata: {name: everywhere-lb, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: everywhere}
  ports: [{port: 8081, targetPort: 8080}]
`

// evictablePod runs on agent-2 and tolerates an unreachable node for 5 s only.
const evictablePod = `
apiVersion: v1
kind: Pod
metadata: {name: evictable, namespace: default}
spec:
  nodeSelector: {kubernetes.io/hostname: agent-2}
  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
  containers:
  - {name: pause, image: ` + testutil.AgnhostImage + `, imagePullPolicy: Never, args: [pause]}
`

// TestMultiNode is one server and two agents. The apiserver cannot open
// connections to the agents' kubelet port (blocked on the server), so logs,
// exec and port-forward for pods on agents must go through the tunnel.
// The read-only checks share one cluster; the fault checks come last.
func TestMultiNode(t *testing.T) {
	c := NewCluster(t)
	c.StartServer("--kube-controller-manager-arg", "node-monitor-grace-period=20s", "--egress-selector-mode", "pod")
	c.WaitNodesReady(3*time.Minute, "True", "server")
	// agent-2 joins with an expiring bootstrap token from `wren token create`.
	bootstrap, err := c.Exec(c.Server, "wren", "token", "create", "--ttl", "1h")
	require.NoError(t, err)
	a1 := c.StartAgent("agent-1", c.Token)
	a2 := c.StartAgent("agent-2", strings.TrimSpace(bootstrap))
	for _, a := range []*Node{a1, a2} {
		// Only connections the server's own processes open are blocked:
		// pods on the server (metrics-server) still reach the kubelets.
		_, err = c.Exec(c.Server, "iptables", "-I", "OUTPUT", "-p", "tcp", "-d", a.IP, "--dport", "10250", "-j", "REJECT")
		require.NoError(t, err)
	}
	c.WaitNodesReady(4*time.Minute, "True", "agent-1", "agent-2")

	pods := c.runDaemonSet("server", "agent-1", "agent-2")

	t.Run("pod-to-pod across nodes", func(t *testing.T) {
		for from, src := range pods {
			for to, dst := range pods {
				out, err := c.Kubectl("exec", src.name, "-c", "toolbox", "--", "/toolbox", "get", "http://"+dst.ip+":8080/hostname")
				assert.NoError(t, err, "%s → %s", from, to)
				assert.Equal(t, dst.name, strings.TrimSpace(out), "%s → %s", from, to)
			}
		}
	})
	t.Run("ClusterIP, NodePort and DNS from every node", func(t *testing.T) {
		for from, src := range pods {
			seen := map[string]bool{}
			testutil.Eventually(t, time.Minute, 200*time.Millisecond, "service reaches pods on every node from "+from, func() error {
				out, err := c.Kubectl("exec", src.name, "-c", "toolbox", "--", "/toolbox", "get", "http://everywhere.default.svc.cluster.local/hostname")
				if err != nil {
					return err
				}
				seen[strings.TrimSpace(out)] = true
				if len(seen) < len(pods) {
					return fmt.Errorf("answered by %v", seen)
				}
				return nil
			})
			out, err := c.Kubectl("exec", src.name, "-c", "toolbox", "--", "/toolbox", "lookup", "kubernetes.default.svc.cluster.local")
			assert.NoError(t, err, "DNS from %s", from)
			assert.Equal(t, "10.43.0.1", strings.TrimSpace(out), "DNS from %s", from)
		}
		for _, n := range append([]*Node{c.Server}, c.Agents...) {
			out, err := c.Exec(c.Server, "curl", "-sf", "--max-time", "5", "http://"+n.IP+":30080/hostname")
			assert.NoError(t, err, "NodePort on %s", n.Name)
			assert.NotEmpty(t, out)
		}
	})
	t.Run("ServiceLB and CoreDNS NodeHosts cover every node", func(t *testing.T) {
		c.Apply(lbService)
		nodes := append([]*Node{c.Server}, c.Agents...)
		testutil.Eventually(t, 2*time.Minute, time.Second, "LoadBalancer ingress on every node", func() error {
			out, err := c.Kubectl("get", "svc", "everywhere-lb", "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")
			if err != nil {
				return err
			}
			for _, n := range nodes {
				if !strings.Contains(" "+out+" ", " "+n.IP+" ") {
					return fmt.Errorf("ingress %q lacks %s (%s)", out, n.IP, n.Name)
				}
			}
			return nil
		})
		for _, n := range nodes {
			// kube-proxy on every node picks the new ingress up on its next sync.
			testutil.Eventually(t, time.Minute, time.Second, "LoadBalancer answers on "+n.Name, func() error {
				out, err := c.Exec(c.Agents[0], "curl", "-sf", "--max-time", "5", "http://"+n.IP+":8081/hostname")
				if err == nil && strings.TrimSpace(out) == "" {
					err = fmt.Errorf("empty answer")
				}
				return err
			})
		}
		testutil.Eventually(t, 2*time.Minute, 2*time.Second, "NodeHosts resolves every node from a pod", func() error {
			hosts, err := c.Kubectl("get", "configmap", "-n", "kube-system", "coredns", "-o", "jsonpath={.data.NodeHosts}")
			if err != nil {
				return err
			}
			for _, n := range nodes {
				if !strings.Contains(hosts, n.IP+" "+n.Name) {
					return fmt.Errorf("NodeHosts lacks %s %s:\n%s", n.IP, n.Name, hosts)
				}
				out, err := c.Kubectl("exec", pods["server"].name, "-c", "toolbox", "--", "/toolbox", "lookup", n.Name)
				if err != nil || strings.TrimSpace(out) != n.IP {
					return fmt.Errorf("lookup %s from a pod: %q %v", n.Name, out, err)
				}
			}
			return nil
		})
	})
	t.Run("logs, exec and port-forward through the tunnel", func(t *testing.T) {
		for i, node := range []string{"agent-1", "agent-2"} {
			p := pods[node]
			out, err := c.Kubectl("exec", p.name, "-c", "toolbox", "--", "/toolbox", "cat", "/etc/hostname")
			require.NoError(t, err, "exec on %s", node)
			assert.Equal(t, p.name, strings.TrimSpace(out))
			out, err = c.Kubectl("logs", p.name, "-c", "netexec")
			require.NoError(t, err, "logs on %s", node)
			assert.Contains(t, out, "Started HTTP server on port 8080")
			port := fmt.Sprint(18080 + i)
			out, err = c.Exec(c.Server, "sh", "-c", "wren kubectl port-forward pod/"+p.name+" "+port+":8080 >/dev/null 2>&1 & pf=$!; "+
				"for i in $(seq 50); do curl -sf --max-time 2 http://127.0.0.1:"+port+"/hostname && break; sleep 0.2; done; kill $pf")
			assert.NoError(t, err, "port-forward on %s", node)
			assert.Equal(t, p.name, strings.TrimSpace(out))
		}
		// The kubelets really are unreachable from the server directly.
		_, err := c.Exec(c.Server, "curl", "-sk", "--max-time", "3", "https://"+a1.IP+":10250/healthz")
		assert.Error(t, err, "the agents' port 10250 must be blocked from the server")
	})
	t.Run("pod proxy through the tunnel (egress mode pod)", func(t *testing.T) {
		// The server's own processes cannot reach the agents' pods directly.
		for _, a := range c.Agents {
			cidr := c.MustKubectl("get", "node", a.Name, "-o", "jsonpath={.spec.podCIDR}")
			rule := []string{"OUTPUT", "-d", cidr, "-j", "REJECT"}
			_, err := c.Exec(c.Server, append([]string{"iptables", "-I"}, rule...)...)
			require.NoError(t, err)
			defer func() { _, _ = c.Exec(c.Server, append([]string{"iptables", "-D"}, rule...)...) }()
		}
		for _, node := range []string{"agent-1", "agent-2"} {
			p := pods[node]
			_, err := c.Exec(c.Server, "curl", "-s", "--max-time", "3", "http://"+p.ip+":8080/hostname")
			require.Error(t, err, "pod on %s reached directly from the server", node)
			out, err := c.Kubectl("get", "--raw", "/api/v1/namespaces/default/pods/"+p.name+":8080/proxy/hostname")
			require.NoError(t, err, "pod proxy to %s", node)
			assert.Equal(t, p.name, strings.TrimSpace(out))
		}
	})
	t.Run("kubectl top", func(t *testing.T) {
		testutil.Eventually(t, 3*time.Minute, 5*time.Second, "metrics for every node", func() error {
			out, err := c.Kubectl("top", "nodes", "--no-headers")
			if err != nil {
				return err
			}
			if strings.Count(strings.TrimSpace(out), "\n")+1 < 3 {
				return fmt.Errorf("top nodes:\n%s", out)
			}
			return nil
		})
	})
	t.Run("bad joins are refused", func(t *testing.T) {
		good, err := token.Parse(c.Token)
		require.NoError(t, err)
		other := token.Token{CAHash: strings.Repeat("cd", 32), User: "server", Secret: good.Secret}
		expired, err := c.Exec(c.Server, "wren", "token", "create", "--ttl", "1s")
		require.NoError(t, err)
		time.Sleep(2 * time.Second)
		cases := []struct{ name, token, nodeName, want string }{
			{"wrong-secret", token.Token{CAHash: good.CAHash, User: "server", Secret: "wrong"}.String(), "bad-1", "wrong or expired token"},
			{"ca-mismatch", other.String(), "bad-2", "the token is for another cluster"},
			{"expired-bootstrap-token", strings.TrimSpace(expired), "bad-3", "wrong or expired token"},
			{"duplicate-name", c.Token, "agent-1", `node "agent-1" is already registered by another machine`},
		}
		for _, tc := range cases {
			n := c.createNode(tc.name, "agent", "--server", c.ServerURL(), "--token", tc.token, "--node-name", tc.nodeName)
			c.start(n)
			testutil.Eventually(t, 2*time.Minute, time.Second, tc.name+" exits", func() error {
				if running, _ := c.Running(n); running {
					return fmt.Errorf("still running")
				}
				return nil
			})
			_, code := c.Running(n)
			assert.NotEqual(t, "0", code, tc.name)
			assert.Contains(t, c.Logs(n), tc.want, tc.name)
		}
		// agent-1 is unaffected.
		c.WaitNodesReady(time.Minute, "True", "agent-1")
	})
	t.Run("server killed for 60 s: agents' pods keep serving, all recovers", func(t *testing.T) {
		before, err := c.podsByNode("app=everywhere")
		require.NoError(t, err)
		mustDocker(t, 2*time.Minute, "kill", c.Server.Container)
		// The outage itself is the scenario: for 60 s the pods on the agents
		// must keep answering, across the agents' own network.
		for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Second) {
			p := before["agent-2"]
			out, err := c.Exec(c.Agents[0], "curl", "-sf", "--max-time", "5", "http://"+p.ip+":8080/hostname")
			require.NoError(t, err, "pod on agent-2 from agent-1 while the server is down")
			require.Equal(t, p.name, strings.TrimSpace(out))
		}
		for _, a := range c.Agents {
			assert.Contains(t, c.Logs(a), "tunnel to the server is down", a.Name)
		}
		mustDocker(t, 2*time.Minute, "start", c.Server.Container)
		c.WaitNodesReady(4*time.Minute, "True", "server", "agent-1", "agent-2")
		testutil.Eventually(t, 2*time.Minute, 2*time.Second, "tunnel back: exec on agent-2", func() error {
			_, err := c.Kubectl("exec", before["agent-2"].name, "-c", "toolbox", "--", "/toolbox", "cat", "/etc/hostname")
			return err
		})
		for _, a := range c.Agents {
			testutil.Eventually(t, time.Minute, time.Second, a.Name+": tunnel back", func() error {
				if !strings.Contains(c.Logs(a), "tunnel to the server is back") {
					return fmt.Errorf("not yet")
				}
				return nil
			})
		}
		after, err := c.podsByNode("app=everywhere")
		require.NoError(t, err)
		for _, a := range c.Agents {
			assert.Equal(t, before[a.Name].uid, after[a.Name].uid, "pod on %s kept", a.Name)
			assert.Equal(t, "0 0", after[a.Name].restarts, "no container restarts on %s", a.Name)
		}
	})
	t.Run("partitioned agent goes NotReady, its pods are evicted per their tolerations, it recovers", func(t *testing.T) {
		a := c.Agents[1]
		c.Apply(evictablePod)
		testutil.Eventually(t, 2*time.Minute, time.Second, "evictable pod Running on "+a.Name, func() error {
			out, err := c.Kubectl("get", "pod", "evictable", "-o", "jsonpath={.status.phase}")
			if err != nil || out != "Running" {
				return fmt.Errorf("phase %q: %v", out, err)
			}
			return nil
		})
		_, err := c.Exec(a, "iptables", "-I", "OUTPUT", "-d", c.Server.IP, "-j", "DROP")
		require.NoError(t, err)
		c.WaitNodesReady(2*time.Minute, "Unknown", a.Name)
		// The node lifecycle controller taints the node unreachable; a pod
		// tolerating that for 5 s is evicted, the DaemonSet's pod is not.
		testutil.Eventually(t, 2*time.Minute, time.Second, "evictable pod evicted", func() error {
			out, err := c.Kubectl("get", "pod", "evictable", "-o", "jsonpath={.metadata.deletionTimestamp}")
			if err == nil && out == "" {
				return fmt.Errorf("not marked for deletion yet")
			}
			return nil
		})
		ds, err := c.podsByNode("app=everywhere")
		require.NoError(t, err)
		assert.Equal(t, pods[a.Name].uid, ds[a.Name].uid, "the DaemonSet pod tolerates unreachable nodes")
		_, err = c.Exec(a, "iptables", "-D", "OUTPUT", "-d", c.Server.IP, "-j", "DROP")
		require.NoError(t, err)
		c.WaitNodesReady(2*time.Minute, "True", a.Name)
		testutil.Eventually(t, 2*time.Minute, time.Second, "evicted pod removed once the node is back", func() error {
			if _, err := c.Kubectl("get", "pod", "evictable"); err == nil {
				return fmt.Errorf("still there")
			}
			return nil
		})
	})
}

// runDaemonSet applies daemonSet and waits for its pods to run on nodes.
func (c *Cluster) runDaemonSet(nodes ...string) map[string]podInfo {
	c.t.Helper()
	c.Apply(daemonSet)
	pods := map[string]podInfo{}
	testutil.Eventually(c.t, 4*time.Minute, 2*time.Second, "DaemonSet pods Running on every node", func() error {
		var err error
		pods, err = c.podsByNode("app=everywhere")
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if p, ok := pods[n]; !ok || p.phase != "Running" || p.ready != "true true" {
				return fmt.Errorf("node %s: %+v", n, p)
			}
		}
		return nil
	})
	return pods
}

type podInfo struct{ name, ip, phase, ready, uid, restarts string }

// podsByNode maps node name → the pod matching selector there.
func (c *Cluster) podsByNode(selector string) (map[string]podInfo, error) {
	out, err := c.Kubectl("get", "pods", "-l", selector, "-o",
		`jsonpath={range .items[*]}{.spec.nodeName}|{.metadata.name}|{.status.podIP}|{.status.phase}|{.status.containerStatuses[*].ready}|{.metadata.uid}|{.status.containerStatuses[*].restartCount}{"\n"}{end}`)
	if err != nil {
		return nil, err
	}
	m := map[string]podInfo{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) == 7 {
			m[f[0]] = podInfo{name: f[1], ip: f[2], phase: f[3], ready: f[4], uid: f[5], restarts: f[6]}
		}
	}
	return m, nil
}
