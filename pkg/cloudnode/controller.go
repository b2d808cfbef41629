// SPDX-License-Identifier: Apache-2.0

package cloudnode

import (
	"context"
	"log/slog"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	nodecontroller "k8s.io/cloud-provider/controllers/node"
	controllersmetrics "k8s.io/component-base/metrics/prometheus/controllers"

	"github.com/wren-k8s/wren/pkg/component"
)

// Controller runs the upstream cloud node controller with wren's provider.
type Controller struct {
	client func() (kubernetes.Interface, error)
	log    *slog.Logger
	component.Task
}

var (
	_ component.Component = (*Controller)(nil)
	_ component.Exiter    = (*Controller)(nil)
)

// NewController returns the cloud node controller component; client makes
// the API client once the API is up.
func NewController(client func() (kubernetes.Interface, error), log *slog.Logger) *Controller {
	return &Controller{client: client, log: log}
}

// Name implements component.Component.
func (c *Controller) Name() string { return "cloud-node-controller" }

// Start runs the controller.
func (c *Controller) Start(ctx context.Context) error {
	cs, err := c.client()
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	ctrl, err := nodecontroller.NewCloudNodeController(factory.Core().V1().Nodes(), cs, Provider{}, time.Minute, 1, 1)
	if err != nil {
		return err
	}
	c.Go(ctx, func(ctx context.Context) error {
		factory.Start(ctx.Done())
		ctrl.RunWithContext(ctx, controllersmetrics.NewControllerManagerMetrics("wren"))
		factory.Shutdown()
		return nil
	})
	return nil
}

// Ready implements component.Component.
func (c *Controller) Ready(context.Context) error { return nil }
