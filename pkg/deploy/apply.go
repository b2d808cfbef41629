// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the server-side apply field manager of everything the
// deploy controller applies.
const FieldManager = "wren-deploy"

// Ref identifies an applied object, for pruning.
type Ref struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// applier server-side applies objects and deletes pruned ones.
type applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// mapping resolves a kind to its resource, refreshing discovery once when
// the kind is new (a CRD applied moments ago).
func (a *applier) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		a.mapper.Reset()
		m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("the API has no kind %s in %s (is its CRD installed?)", gvk.Kind, gvk.GroupVersion())
	}
	return m, err
}

// order applies namespaces and CRDs before the objects that need them.
func order(objs []*unstructured.Unstructured) {
	rank := func(o *unstructured.Unstructured) int {
		switch o.GetKind() {
		case "Namespace":
			return 0
		case "CustomResourceDefinition":
			return 1
		}
		return 2
	}
	sort.SliceStable(objs, func(i, j int) bool { return rank(objs[i]) < rank(objs[j]) })
}

// apply applies every object and returns their refs; it stops at the first error.
func (a *applier) apply(ctx context.Context, objs []*unstructured.Unstructured) ([]Ref, error) {
	order(objs)
	refs := make([]Ref, 0, len(objs))
	for _, obj := range objs {
		m, err := a.mapping(obj.GroupVersionKind())
		if err != nil {
			return nil, err
		}
		var client dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				obj.SetNamespace(metav1.NamespaceDefault)
			}
			client = a.dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
		} else {
			obj.SetNamespace("")
		}
		if _, err := client.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			return nil, fmt.Errorf("apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		refs = append(refs, Ref{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()})
	}
	return refs, nil
}

// prune deletes the refs in old that are not in keep.
func (a *applier) prune(ctx context.Context, old, keep []Ref) error {
	kept := map[Ref]bool{}
	for _, r := range keep {
		kept[r] = true
	}
	var errs []error
	for _, r := range old {
		if kept[r] {
			continue
		}
		gv, err := schema.ParseGroupVersion(r.APIVersion)
		if err != nil {
			continue
		}
		m, err := a.mapping(gv.WithKind(r.Kind))
		if err != nil {
			continue // the kind is gone, and with it the object
		}
		var client dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			client = a.dyn.Resource(m.Resource).Namespace(r.Namespace)
		}
		policy := metav1.DeletePropagationBackground
		err = client.Delete(ctx, r.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}
