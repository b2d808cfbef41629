// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/pki"
)

// ControlPlaneLabel marks the nodes that run the control plane, as on k3s and kubeadm clusters.
const ControlPlaneLabel = "node-role.kubernetes.io/control-plane"

// nodeRole labels the server's own node as a control-plane node once the
// kubelet registered it. The kubelet cannot: NodeRestriction forbids a node
// to give itself node-role labels.
type nodeRole struct {
	node  string
	url   string
	certs pki.Paths
	cs    kubernetes.Interface
}

var _ component.Component = (*nodeRole)(nil)

func (n *nodeRole) Name() string { return "node-role" }
func (n *nodeRole) Start(context.Context) (err error) {
	n.cs, err = supervisorClient(n.url, n.certs)
	return err
}
func (n *nodeRole) Stop(context.Context) error { return nil }

// Ready labels the node and returns nil, or an error while it does not exist yet.
func (n *nodeRole) Ready(ctx context.Context) error {
	cs := n.cs
	node, err := cs.CoreV1().Nodes().Get(ctx, n.node, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("waiting for node %s: %w", n.node, err)
	}
	if node.Labels[ControlPlaneLabel] == "true" {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"true"}}}`, ControlPlaneLabel)
	_, err = cs.CoreV1().Nodes().Patch(ctx, n.node, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}
