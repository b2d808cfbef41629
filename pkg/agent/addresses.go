// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wren-k8s/wren/pkg/cloudnode"
	"github.com/wren-k8s/wren/pkg/component"
)

// addresses publishes the node's IPs as annotations on its Node once the
// kubelet registered it; the server's cloud node controller turns them into
// the node's status addresses.
type addresses struct {
	node       string
	internal   netip.Addr
	external   netip.Addr
	kubeconfig string
	cs         kubernetes.Interface
}

var _ component.Component = (*addresses)(nil)

func (a *addresses) Name() string { return "node-addresses" }

func (a *addresses) Start(context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", a.kubeconfig)
	if err != nil {
		return err
	}
	a.cs, err = kubernetes.NewForConfig(cfg)
	return err
}

// Ready patches the annotations once the node exists; it returns an error
// while the kubelet has not registered it yet.
func (a *addresses) Ready(ctx context.Context) error {
	node, err := a.cs.CoreV1().Nodes().Get(ctx, a.node, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("waiting for the kubelet to register node %s: %w", a.node, err)
	}
	want := map[string]any{cloudnode.InternalIPAnnotation: a.internal.String(), cloudnode.ExternalIPAnnotation: nil}
	if a.external.IsValid() {
		want[cloudnode.ExternalIPAnnotation] = a.external.String()
	}
	changed := false
	for k, v := range want {
		have, ok := node.Annotations[k]
		if (v == nil && ok) || (v != nil && have != v) {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": want}})
	_, err = a.cs.CoreV1().Nodes().Patch(ctx, a.node, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

func (a *addresses) Stop(context.Context) error { return nil }
