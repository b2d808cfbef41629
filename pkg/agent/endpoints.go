// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"context"
	"net"
	"strconv"
	"sync"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// apiEndpoints returns a function listing the API's endpoints (host:port of
// the default/kubernetes Service) with the node controller's identity. The
// client is made on first use: the kubeconfig exists once the node has its
// credentials.
func apiEndpoints(kubeconfig string) func(context.Context) ([]string, error) {
	var mu sync.Mutex
	var cs kubernetes.Interface
	return func(ctx context.Context) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		if cs == nil {
			rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return nil, err
			}
			if cs, err = kubernetes.NewForConfig(rc); err != nil {
				return nil, err
			}
		}
		slices, err := cs.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=kubernetes"})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, s := range slices.Items {
			for _, p := range s.Ports {
				if p.Name == nil || *p.Name != "https" || p.Port == nil {
					continue
				}
				for _, ep := range s.Endpoints {
					for _, a := range ep.Addresses {
						out = append(out, net.JoinHostPort(a, strconv.Itoa(int(*p.Port))))
					}
				}
			}
		}
		return out, nil
	}
}
