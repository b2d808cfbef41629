// SPDX-License-Identifier: Apache-2.0

package server

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/kubeconfig"
	"github.com/wren-k8s/wren/pkg/nodecert"
	"github.com/wren-k8s/wren/pkg/pki"
)

// ControllerUser is the identity of each node's own controllers (flannel,
// the agent's load balancer).
const ControllerUser = nodecert.ControllerUser

// rbac ensures the cluster roles wren's own identities need exist, before any
// node starts.
type rbac struct {
	url   string
	certs pki.Paths
}

var _ component.Component = (*rbac)(nil)

func (r *rbac) Name() string { return "rbac" }

// controllerRole lets flannel watch nodes and record its lease on them, and
// an agent's load balancer follow the API's endpoints.
func controllerRole() (*rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding) {
	meta := metav1.ObjectMeta{Name: ControllerUser, Labels: map[string]string{"app.kubernetes.io/managed-by": "wren"}}
	role := &rbacv1.ClusterRole{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"nodes/status"}, Verbs: []string{"patch", "update"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
	}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: meta,
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ControllerUser},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: ControllerUser}},
	}
	return role, binding
}

// supervisorRESTConfig is the client config of wren's supervisor identity.
func supervisorRESTConfig(url string, certs pki.Paths) (*rest.Config, error) {
	cert, key := certs.Client(pki.ClientSupervisor)
	cfg, err := kubeconfig.Build(kubeconfig.Spec{Server: url, CAFile: certs.ServerCA(), CertFile: cert, KeyFile: key})
	if err != nil {
		return nil, err
	}
	return clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
}

// supervisorClient returns a client acting as wren's supervisor identity.
func supervisorClient(url string, certs pki.Paths) (kubernetes.Interface, error) {
	rc, err := supervisorRESTConfig(url, certs)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

func (r *rbac) Start(ctx context.Context) error {
	cs, err := supervisorClient(r.url, r.certs)
	if err != nil {
		return err
	}
	role, binding := controllerRole()
	roles := cs.RbacV1().ClusterRoles()
	if _, err := roles.Create(ctx, role, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		current, err := roles.Get(ctx, role.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		current.Rules = role.Rules
		_, err = roles.Update(ctx, current, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("cluster role %s: %w", role.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("cluster role %s: %w", role.Name, err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("cluster role binding %s: %w", binding.Name, err)
	}
	return nil
}

func (r *rbac) Ready(context.Context) error { return nil }
func (r *rbac) Stop(context.Context) error  { return nil }
