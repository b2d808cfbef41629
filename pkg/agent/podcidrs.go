// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"context"
	"net/netip"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/tunnel"
)

// tunnelPodPrefixes returns what the tunnel lets the server dial besides the
// kubelet, per egress mode: nothing (agent, disabled), this node's pod CIDRs
// (pod) or the whole cluster CIDR (cluster).
func tunnelPodPrefixes(mode string, cluster config.ClusterSettings, kubeconfig, node string) func() []netip.Prefix {
	switch mode {
	case config.EgressCluster:
		return func() []netip.Prefix { return []netip.Prefix{cluster.ClusterCIDR} }
	case config.EgressPod:
		return nodePodCIDRs(kubeconfig, node)
	}
	return nil
}

// nodePodCIDRs reads the node's pod CIDRs from its Node object on first use
// after the controller manager assigned them (they never change after).
func nodePodCIDRs(kubeconfig, node string) func() []netip.Prefix {
	var mu sync.Mutex
	var cidrs []netip.Prefix
	var tried time.Time
	return func() []netip.Prefix {
		mu.Lock()
		defer mu.Unlock()
		if len(cidrs) > 0 || time.Since(tried) < 2*time.Second {
			return cidrs
		}
		tried = time.Now()
		rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil
		}
		rc.Timeout = 5 * time.Second
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return nil
		}
		n, err := cs.CoreV1().Nodes().Get(context.Background(), node, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		cidrs = tunnel.NodePodCIDRs(n)
		return cidrs
	}
}
