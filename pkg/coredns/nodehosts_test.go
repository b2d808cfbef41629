// SPDX-License-Identifier: Apache-2.0

package coredns

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRender(t *testing.T) {
	t.Parallel()
	node := func(name, ip string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeExternalIP, Address: "203.0.113.1"}, {Type: corev1.NodeHostName, Address: name},
		}}}
	}
	assert.Equal(t, "192.0.2.2 a\n192.0.2.3 b", Render([]*corev1.Node{node("b", "192.0.2.3"), node("a", "192.0.2.2")}))
	assert.Equal(t, "", Render(nil))
}
