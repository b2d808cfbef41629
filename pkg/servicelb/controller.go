// SPDX-License-Identifier: Apache-2.0

package servicelb

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/events"
)

// Controller keeps LoadBalancer Services' status in line with Decide. When
// disabled it only removes, once at start, the node addresses it gave out.
type Controller struct {
	client   func() (kubernetes.Interface, error)
	disabled bool
	log      *slog.Logger
	component.Task
}

var (
	_ component.Component = (*Controller)(nil)
	_ component.Exiter    = (*Controller)(nil)
)

// NewController returns the ServiceLB component; disabled makes it undo its work and stop.
func NewController(client func() (kubernetes.Interface, error), disabled bool, log *slog.Logger) *Controller {
	return &Controller{client: client, disabled: disabled, log: log}
}

// Name implements component.Component.
func (c *Controller) Name() string { return "servicelb" }

// Start runs the controller.
func (c *Controller) Start(ctx context.Context) error {
	cs, err := c.client()
	if err != nil {
		return err
	}
	if c.disabled {
		return c.cleanup(ctx, cs)
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	svcs, nodes := factory.Core().V1().Services(), factory.Core().V1().Nodes()
	changed := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{AddFunc: poke, DeleteFunc: poke, UpdateFunc: func(_, o any) { poke(o) }}
	if _, err := svcs.Informer().AddEventHandler(handler); err != nil {
		return err
	}
	if _, err := nodes.Informer().AddEventHandler(handler); err != nil {
		return err
	}
	recorder, stopEvents := events.NewRecorder(ctx, cs, "wren-servicelb")
	c.Go(ctx, func(ctx context.Context) error {
		defer stopEvents()
		factory.Start(ctx.Done())
		defer factory.Shutdown()
		factory.WaitForCacheSync(ctx.Done())
		reported := map[string]string{}
		for {
			services, _ := svcs.Lister().List(labels.Everything())
			nodeList, _ := nodes.Lister().List(labels.Everything())
			for _, p := range Decide(services, NodeIPs(nodeList)) {
				c.apply(ctx, cs, recorder, p, reported)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
			case <-time.After(time.Minute):
			}
		}
	})
	return nil
}

func (c *Controller) apply(ctx context.Context, cs kubernetes.Interface, rec record.EventRecorder, p Plan, reported map[string]string) {
	key := p.Service.Namespace + "/" + p.Service.Name
	if p.Conflict != "" && reported[key] != p.Conflict {
		rec.Event(p.Service, corev1.EventTypeWarning, "PortInUse", p.Conflict)
		reported[key] = p.Conflict
	}
	if p.Conflict == "" {
		delete(reported, key)
	}
	if equal(ingressIPs(p.Service), p.Ingress) {
		return
	}
	svc := p.Service.DeepCopy()
	svc.Status.LoadBalancer.Ingress = nil
	for _, ip := range p.Ingress {
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	if _, err := cs.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		c.log.Warn("cannot update LoadBalancer status", "service", key, "err", err)
		return
	}
	if len(p.Ingress) > 0 {
		c.log.Info("LoadBalancer service exposed on the node addresses", "service", key, "ips", p.Ingress)
	}
}

// cleanup removes node addresses from LoadBalancer Services after
// `--disable servicelb`: they were wren's to give.
func (c *Controller) cleanup(ctx context.Context, cs kubernetes.Interface) error {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	services, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	ours := map[string]bool{}
	for i := range nodes.Items {
		for _, a := range nodes.Items[i].Status.Addresses {
			ours[a.Address] = true
		}
	}
	for i := range services.Items {
		s := &services.Items[i]
		ips := ingressIPs(s)
		if !Handled(s) || len(ips) == 0 {
			continue
		}
		all := true
		for _, ip := range ips {
			all = all && ours[ip]
		}
		if !all {
			continue
		}
		svc := s.DeepCopy()
		svc.Status.LoadBalancer.Ingress = nil
		if _, err := cs.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err == nil {
			c.log.Info("servicelb disabled: removed node addresses", "service", s.Namespace+"/"+s.Name)
		}
	}
	return nil
}

// Ready implements component.Component.
func (c *Controller) Ready(context.Context) error { return nil }
