// SPDX-License-Identifier: Apache-2.0

// Package coredns keeps CoreDNS's NodeHosts list (one "IP name" line per
// node) in sync with the cluster's nodes, so pods resolve node names.
package coredns

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/wren-k8s/wren/pkg/component"
)

// NodeHosts maintains the NodeHosts key of the kube-system/coredns ConfigMap.
type NodeHosts struct {
	client func() (kubernetes.Interface, error)
	log    *slog.Logger
	component.Task
}

var (
	_ component.Component = (*NodeHosts)(nil)
	_ component.Exiter    = (*NodeHosts)(nil)
)

// NewNodeHosts returns the NodeHosts component.
func NewNodeHosts(client func() (kubernetes.Interface, error), log *slog.Logger) *NodeHosts {
	return &NodeHosts{client: client, log: log}
}

// Name implements component.Component.
func (n *NodeHosts) Name() string { return "coredns-nodehosts" }

// Start watches nodes and rewrites NodeHosts when they change (and every
// 30 s, which also covers the ConfigMap being created after the nodes).
func (n *NodeHosts) Start(ctx context.Context) error {
	cs, err := n.client()
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	nodes := factory.Core().V1().Nodes()
	changed := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, DeleteFunc: poke, UpdateFunc: func(_, o any) { poke(o) },
	}); err != nil {
		return err
	}
	n.Go(ctx, func(ctx context.Context) error {
		factory.Start(ctx.Done())
		defer factory.Shutdown()
		factory.WaitForCacheSync(ctx.Done())
		last := ""
		for {
			list, _ := nodes.Lister().List(labels.Everything())
			hosts := Render(list)
			if hosts != last {
				if err := update(ctx, cs, hosts); err != nil {
					n.log.Debug("NodeHosts not updated", "err", err)
				} else {
					last = hosts
				}
			}
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
			case <-time.After(30 * time.Second):
				last = "" // the ConfigMap may have been re-created
			}
		}
	})
	return nil
}

// Ready implements component.Component.
func (n *NodeHosts) Ready(context.Context) error { return nil }

// Render returns the hosts lines for nodes: each internal IP with the node name.
func Render(nodes []*corev1.Node) string {
	var lines []string
	for _, node := range nodes {
		for _, a := range node.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				lines = append(lines, a.Address+" "+node.Name)
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// update patches only the NodeHosts key, and only if CoreDNS's ConfigMap
// exists (CoreDNS may be disabled).
func update(ctx context.Context, cs kubernetes.Interface, hosts string) error {
	cms := cs.CoreV1().ConfigMaps(metav1.NamespaceSystem)
	if _, err := cms.Get(ctx, "coredns", metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	patch, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "coredns", "namespace": metav1.NamespaceSystem},
		"data":     map[string]string{"NodeHosts": hosts},
	})
	_, err := cms.Patch(ctx, "coredns", types.ApplyPatchType, patch, metav1.PatchOptions{FieldManager: "wren-nodehosts", Force: ptr.To(true)})
	return err
}
