// SPDX-License-Identifier: Apache-2.0

// Package cloudnode initializes nodes the way a cloud controller manager
// does, with wren as the "cloud": the kubelets run with
// --cloud-provider=external, each node records its addresses in annotations
// (wren.io/internal-ip, wren.io/external-ip), and the upstream cloud node
// controller turns them into the node's status addresses and removes the
// uninitialized taint. This is how --node-external-ip reaches
// .status.addresses, where the kubelet alone cannot put it.
package cloudnode

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	cloudprovider "k8s.io/cloud-provider"
)

// Annotations a node sets on itself.
const (
	InternalIPAnnotation = "wren.io/internal-ip"
	ExternalIPAnnotation = "wren.io/external-ip"
)

// ProviderName is the cloud provider's name, the scheme of node provider IDs.
const ProviderName = "wren"

// Provider is wren's cloud provider: instances only.
type Provider struct{}

var (
	_ cloudprovider.Interface   = Provider{}
	_ cloudprovider.InstancesV2 = Provider{}
)

// Initialize implements cloudprovider.Interface.
func (Provider) Initialize(cloudprovider.ControllerClientBuilder, <-chan struct{}) {}

// LoadBalancer implements cloudprovider.Interface: not supported.
func (Provider) LoadBalancer() (cloudprovider.LoadBalancer, bool) { return nil, false }

// Instances implements cloudprovider.Interface: wren implements InstancesV2.
func (Provider) Instances() (cloudprovider.Instances, bool) { return nil, false }

// InstancesV2 implements cloudprovider.Interface.
func (p Provider) InstancesV2() (cloudprovider.InstancesV2, bool) { return p, true }

// Zones implements cloudprovider.Interface: not supported.
func (Provider) Zones() (cloudprovider.Zones, bool) { return nil, false }

// Clusters implements cloudprovider.Interface: not supported.
func (Provider) Clusters() (cloudprovider.Clusters, bool) { return nil, false }

// Routes implements cloudprovider.Interface: flannel does the routing.
func (Provider) Routes() (cloudprovider.Routes, bool) { return nil, false }

// ProviderName implements cloudprovider.Interface.
func (Provider) ProviderName() string { return ProviderName }

// HasClusterID implements cloudprovider.Interface.
func (Provider) HasClusterID() bool { return false }

// InstanceExists implements InstancesV2: every registered node is an instance.
func (Provider) InstanceExists(context.Context, *corev1.Node) (bool, error) { return true, nil }

// InstanceShutdown implements InstancesV2: the kubelet's heartbeat says that.
func (Provider) InstanceShutdown(context.Context, *corev1.Node) (bool, error) { return false, nil }

// InstanceMetadata implements InstancesV2: addresses from the node's own annotations.
func (Provider) InstanceMetadata(_ context.Context, node *corev1.Node) (*cloudprovider.InstanceMetadata, error) {
	addrs, err := NodeAddresses(node)
	if err != nil {
		return nil, err
	}
	return &cloudprovider.InstanceMetadata{
		ProviderID:    ProviderName + "://" + node.Name,
		InstanceType:  ProviderName,
		NodeAddresses: addrs,
	}, nil
}

// NodeAddresses derives a node's addresses from the annotations its agent
// sets right after the kubelet registered it: the internal IP, the external
// IP if it has one, and its name as the hostname. Until they are there the
// node stays uninitialized (and the controller retries), so a node never
// starts without its external IP.
func NodeAddresses(node *corev1.Node) ([]corev1.NodeAddress, error) {
	internal := node.Annotations[InternalIPAnnotation]
	if _, err := netip.ParseAddr(internal); err != nil {
		return nil, fmt.Errorf("node %s has not published its IP yet", node.Name)
	}
	addrs := []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: internal}}
	if ext := node.Annotations[ExternalIPAnnotation]; ext != "" {
		if _, err := netip.ParseAddr(ext); err != nil {
			return nil, fmt.Errorf("node %s: annotation %s=%q is not an IP", node.Name, ExternalIPAnnotation, ext)
		}
		addrs = append(addrs, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: ext})
	}
	return append(addrs, corev1.NodeAddress{Type: corev1.NodeHostName, Address: node.Name}), nil
}
