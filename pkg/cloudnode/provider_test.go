// SPDX-License-Identifier: Apache-2.0

package cloudnode

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(annotations map[string]string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "edge1", Annotations: annotations}}
}

func TestNodeAddresses(t *testing.T) {
	t.Parallel()
	addrs, err := NodeAddresses(node(map[string]string{InternalIPAnnotation: "192.0.2.2", ExternalIPAnnotation: "203.0.113.5"}))
	require.NoError(t, err)
	assert.Equal(t, []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: "192.0.2.2"},
		{Type: corev1.NodeExternalIP, Address: "203.0.113.5"},
		{Type: corev1.NodeHostName, Address: "edge1"},
	}, addrs)

	// The kubelet's own --node-ip annotation is not enough: the agent's come first.
	_, err = NodeAddresses(node(map[string]string{"alpha.kubernetes.io/provided-node-ip": "192.0.2.3"}))
	assert.ErrorContains(t, err, "has not published its IP yet")
	assert.ErrorContains(t, err, "has not published its IP yet")
	_, err = NodeAddresses(node(map[string]string{InternalIPAnnotation: "192.0.2.2", ExternalIPAnnotation: "nope"}))
	assert.ErrorContains(t, err, "is not an IP")
}
