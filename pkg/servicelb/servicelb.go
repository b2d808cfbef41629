// SPDX-License-Identifier: Apache-2.0

// Package servicelb gives LoadBalancer Services an address without a cloud:
// the IPs of the cluster's Ready nodes (a node's ExternalIP when it has one,
// else its InternalIP). kube-proxy then answers on <node IP>:<service port>,
// which is what k3s's ServiceLB offers. Two Services cannot share a port on
// the node addresses: the later one stays pending with an event.
package servicelb

import (
	"fmt"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Plan is the outcome for one Service.
type Plan struct {
	Service  *corev1.Service
	Ingress  []string // the addresses it should carry; nil when blocked
	Conflict string   // why it is blocked, if it is
}

// NodeIPs returns the address each Ready node serves LoadBalancers on.
func NodeIPs(nodes []*corev1.Node) []string {
	var ips []string
	for _, n := range nodes {
		if !ready(n) {
			continue
		}
		var internal, external string
		for _, a := range n.Status.Addresses {
			switch a.Type {
			case corev1.NodeInternalIP:
				if internal == "" {
					internal = a.Address
				}
			case corev1.NodeExternalIP:
				if external == "" {
					external = a.Address
				}
			}
		}
		if external != "" {
			ips = append(ips, external)
		} else if internal != "" {
			ips = append(ips, internal)
		}
	}
	sort.Strings(ips)
	return ips
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Handled reports whether wren's ServiceLB owns a Service.
func Handled(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer && s.Spec.LoadBalancerClass == nil
}

// Decide assigns node IPs to the LoadBalancer Services, oldest first; a
// Service wanting a port an older one holds is blocked.
func Decide(services []*corev1.Service, nodeIPs []string) []Plan {
	var lbs []*corev1.Service
	for _, s := range services {
		if Handled(s) && s.DeletionTimestamp == nil {
			lbs = append(lbs, s)
		}
	}
	sort.Slice(lbs, func(i, j int) bool {
		a, b := lbs[i].CreationTimestamp, lbs[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return lbs[i].Namespace+"/"+lbs[i].Name < lbs[j].Namespace+"/"+lbs[j].Name
	})
	holders := map[string]string{}
	plans := make([]Plan, 0, len(lbs))
	for _, s := range lbs {
		key := s.Namespace + "/" + s.Name
		conflict := ""
		for _, p := range s.Spec.Ports {
			port := string(p.Protocol) + "/" + strconv.Itoa(int(p.Port))
			if other, taken := holders[port]; taken {
				conflict = fmt.Sprintf("port %d/%s on the node addresses is already used by LoadBalancer Service %s", p.Port, p.Protocol, other)
				break
			}
		}
		if conflict != "" {
			plans = append(plans, Plan{Service: s, Conflict: conflict})
			continue
		}
		for _, p := range s.Spec.Ports {
			holders[string(p.Protocol)+"/"+strconv.Itoa(int(p.Port))] = key
		}
		plans = append(plans, Plan{Service: s, Ingress: nodeIPs})
	}
	return plans
}

// ingressIPs lists the IPs a Service's status carries.
func ingressIPs(s *corev1.Service) []string {
	var ips []string
	for _, i := range s.Status.LoadBalancer.Ingress {
		if i.IP != "" {
			ips = append(ips, i.IP)
		}
	}
	return ips
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
