// SPDX-License-Identifier: Apache-2.0

package nodepassword

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/wren-k8s/wren/pkg/component"
)

// Cleaner deletes a node's password Secret when its Node is deleted, so
// that `kubectl delete node X` frees the name X.
type Cleaner struct {
	client func() (kubernetes.Interface, error)
	log    *slog.Logger
	component.Task
}

var _ component.Component = (*Cleaner)(nil)

// NewCleaner returns the cleaner component.
func NewCleaner(client func() (kubernetes.Interface, error), log *slog.Logger) *Cleaner {
	return &Cleaner{client: client, log: log}
}

// Name implements component.Component.
func (c *Cleaner) Name() string { return "node-password-cleaner" }

// Start watches Nodes in the background.
func (c *Cleaner) Start(ctx context.Context) error {
	cs, err := c.client()
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(cs, 10*time.Minute)
	inf := factory.Core().V1().Nodes().Informer()
	_, err = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		node, ok := obj.(*corev1.Node)
		if !ok {
			return
		}
		err := cs.CoreV1().Secrets(Namespace).Delete(context.Background(), SecretName(node.Name), metav1.DeleteOptions{})
		switch {
		case err == nil:
			c.log.Info("node deleted: its name is free again", "node", node.Name)
		case !apierrors.IsNotFound(err):
			c.log.Warn("node deleted but its password secret remains", "node", node.Name, "err", err)
		}
	}})
	if err != nil {
		return err
	}
	c.Go(ctx, func(ctx context.Context) error {
		factory.Start(ctx.Done())
		<-ctx.Done()
		factory.Shutdown()
		return nil
	})
	return nil
}

// Ready implements component.Component.
func (c *Cleaner) Ready(context.Context) error { return nil }
