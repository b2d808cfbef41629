// SPDX-License-Identifier: Apache-2.0

package servicelb

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func svc(name string, age int, ports ...int32) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default",
		CreationTimestamp: metav1.NewTime(time.Unix(1000-int64(age), 0))},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	for _, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: p, Protocol: corev1.ProtocolTCP})
	}
	return s
}

func TestDecidePortConflicts(t *testing.T) {
	t.Parallel()
	old, newer := svc("old", 10, 80, 443), svc("newer", 5, 8080, 443)
	cluster := svc("clusterip", 20, 80)
	cluster.Spec.Type = corev1.ServiceTypeClusterIP
	class := "other.example/lb"
	foreign := svc("foreign", 30, 80)
	foreign.Spec.LoadBalancerClass = &class
	plans := Decide([]*corev1.Service{newer, cluster, old, foreign}, []string{"192.0.2.2"})
	assert.Len(t, plans, 2, "only LoadBalancers without a class are ours")
	assert.Equal(t, "old", plans[0].Service.Name)
	assert.Equal(t, []string{"192.0.2.2"}, plans[0].Ingress)
	assert.Equal(t, "newer", plans[1].Service.Name)
	assert.Nil(t, plans[1].Ingress)
	assert.Contains(t, plans[1].Conflict, "port 443/TCP on the node addresses is already used by LoadBalancer Service default/old")
}

func TestNodeIPsPreferExternalAndReady(t *testing.T) {
	t.Parallel()
	node := func(ready corev1.ConditionStatus, addrs ...corev1.NodeAddress) *corev1.Node {
		return &corev1.Node{Status: corev1.NodeStatus{Addresses: addrs,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}}}
	}
	internal := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}
	}
	external := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: ip}
	}
	ips := NodeIPs([]*corev1.Node{
		node(corev1.ConditionTrue, internal("192.0.2.3")),
		node(corev1.ConditionTrue, internal("192.0.2.2"), external("203.0.113.9")),
		node(corev1.ConditionFalse, internal("192.0.2.4")),
	})
	assert.Equal(t, []string{"192.0.2.3", "203.0.113.9"}, ips)
}
