// SPDX-License-Identifier: Apache-2.0

package helm

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/events"
)

// Finalizer holds a HelmChart until its release is uninstalled.
const Finalizer = "helm.wren.io/uninstall"

// Config is what the controller needs.
type Config struct {
	// Kubeconfig is an admin kubeconfig for Helm's client.
	Kubeconfig string
	// CacheDir holds Helm's discovery cache.
	CacheDir string
	// APIHost replaces %{KUBERNETES_API}% in chart URLs; ServerCAFile verifies it.
	APIHost      string
	ServerCAFile string
}

// Controller reconciles HelmCharts.
type Controller struct {
	cfg  Config
	rest func() (*rest.Config, error)
	log  *slog.Logger

	dyn      dynamic.Interface
	charts   cache.GenericLister
	configs  cache.GenericLister
	queue    workqueue.TypedRateLimitingInterface[string]
	recorder record.EventRecorder
	fetch    *fetcher
	release  *releaser
	component.Task
}

var (
	_ component.Component = (*Controller)(nil)
	_ component.Exiter    = (*Controller)(nil)
)

// NewController returns the Helm controller component.
func NewController(cfg Config, restConfig func() (*rest.Config, error), log *slog.Logger) *Controller {
	return &Controller{cfg: cfg, rest: restConfig, log: log}
}

// Name implements component.Component.
func (c *Controller) Name() string { return "helm-controller" }

// Start installs the CRDs and starts the controller.
func (c *Controller) Start(ctx context.Context) error {
	rc, err := c.rest()
	if err != nil {
		return err
	}
	ext, err := apiextensionsclient.NewForConfig(rc)
	if err != nil {
		return err
	}
	if err := EnsureCRDs(ctx, ext); err != nil {
		return err
	}
	if c.dyn, err = dynamic.NewForConfig(rc); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(c.cfg.ServerCAFile)
	if err != nil {
		return err
	}
	c.fetch = &fetcher{apiHost: c.cfg.APIHost, serverCA: ca}
	c.release = &releaser{kubeconfig: c.cfg.Kubeconfig, cacheDir: c.cfg.CacheDir, log: c.log}
	factory := dynamicinformer.NewDynamicSharedInformerFactory(c.dyn, 10*time.Minute)
	charts, configs := factory.ForResource(ChartResource), factory.ForResource(ConfigResource)
	c.charts, c.configs = charts.Lister(), configs.Lister()
	c.queue = workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](2*time.Second, 5*time.Minute))
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	handler := cache.ResourceEventHandlerFuncs{AddFunc: enqueue, DeleteFunc: enqueue, UpdateFunc: func(_, o any) { enqueue(o) }}
	if _, err := charts.Informer().AddEventHandler(handler); err != nil {
		return err
	}
	// A HelmChartConfig belongs to the HelmChart of the same name.
	if _, err := configs.Informer().AddEventHandler(handler); err != nil {
		return err
	}
	var stopEvents func()
	c.recorder, stopEvents = events.NewRecorder(ctx, cs, "wren-helm-controller")
	c.Go(ctx, func(ctx context.Context) error {
		defer stopEvents()
		defer c.queue.ShutDown()
		factory.Start(ctx.Done())
		factory.WaitForCacheSync(ctx.Done())
		go func() { <-ctx.Done(); c.queue.ShutDown() }()
		for c.work(ctx) {
		}
		factory.Shutdown()
		return nil
	})
	return nil
}

// Ready implements component.Component: the kinds are served once Start returned.
func (c *Controller) Ready(context.Context) error { return nil }

func (c *Controller) work(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.reconcile(ctx, key); err != nil {
		c.log.Warn("HelmChart not reconciled; retrying", "chart", key, "err", err)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *Controller) reconcile(ctx context.Context, key string) error {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	obj, err := c.charts.ByNamespace(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	chartObj := obj.(*unstructured.Unstructured).DeepCopy()
	var spec ChartSpec
	var status ChartStatus
	if err := fromField(chartObj, "spec", &spec); err != nil {
		return c.fail(ctx, chartObj, status, "InvalidSpec", err)
	}
	_ = fromField(chartObj, "status", &status)
	target := spec.TargetNamespace
	if target == "" {
		target = ns
	}
	if chartObj.GetDeletionTimestamp() != nil {
		if err := c.release.uninstall(name, target); err != nil {
			return fmt.Errorf("uninstall %s: %w", name, err)
		}
		c.log.Info("uninstalled chart", "chart", key, "namespace", target)
		return c.setFinalizer(ctx, chartObj, false)
	}
	if !slices.Contains(chartObj.GetFinalizers(), Finalizer) {
		return c.setFinalizer(ctx, chartObj, true) // the update requeues it
	}
	var config *ConfigSpec
	if o, err := c.configs.ByNamespace(ns).Get(name); err == nil {
		config = &ConfigSpec{}
		_ = fromField(o.(*unstructured.Unstructured), "spec", config)
	}
	vals, err := Values(spec, config)
	if err != nil {
		return c.fail(ctx, chartObj, status, "InvalidValues", err)
	}
	chrt, archive, err := c.fetch.load(ctx, spec)
	if err != nil {
		return c.fail(ctx, chartObj, status, "ChartUnavailable", err)
	}
	hash := changeHash(archive, vals, target)
	if status.AppliedHash == hash && meta.IsStatusConditionTrue(status.Conditions, ConditionReady) {
		return nil
	}
	timeout := 5 * time.Minute
	if spec.Timeout != nil && spec.Timeout.Duration > 0 {
		timeout = spec.Timeout.Duration
	}
	policy := spec.FailurePolicy
	if config != nil && config.FailurePolicy != "" {
		policy = config.FailurePolicy
	}
	rel, err := c.release.deploy(ctx, deployment{name: name, namespace: target, createNamespace: spec.CreateNamespace,
		chart: chrt, values: vals, timeout: timeout, reinstall: policy != "abort"})
	if err != nil {
		return c.fail(ctx, chartObj, status, "InstallFailed", err)
	}
	status.AppliedHash, status.Revision = hash, rel.Version
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue,
		Reason: "Deployed", Message: fmt.Sprintf("%s %s revision %d in %s", chrt.Name(), chrt.Metadata.Version, rel.Version, target)})
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: ConditionFailed, Status: metav1.ConditionFalse, Reason: "Deployed"})
	c.recorder.Eventf(chartObj, corev1.EventTypeNormal, "Deployed", "%s %s revision %d", chrt.Name(), chrt.Metadata.Version, rel.Version)
	c.log.Info("deployed chart", "chart", key, "version", chrt.Metadata.Version, "revision", rel.Version, "namespace", target)
	return c.writeStatus(ctx, chartObj, status)
}

// fail records a failure on the HelmChart's status and as an event, and
// returns it so the chart is retried with backoff.
func (c *Controller) fail(ctx context.Context, obj *unstructured.Unstructured, status ChartStatus, reason string, err error) error {
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: ConditionFailed, Status: metav1.ConditionTrue, Reason: reason, Message: err.Error()})
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: reason})
	c.recorder.Event(obj, corev1.EventTypeWarning, reason, err.Error())
	if werr := c.writeStatus(ctx, obj, status); werr != nil {
		c.log.Warn("cannot record HelmChart status", "err", werr)
	}
	return fmt.Errorf("%s: %w", reason, err)
}

func (c *Controller) writeStatus(ctx context.Context, obj *unstructured.Unstructured, status ChartStatus) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&status)
	if err != nil {
		return err
	}
	obj.Object["status"] = m
	_, err = c.dyn.Resource(ChartResource).Namespace(obj.GetNamespace()).UpdateStatus(ctx, obj, metav1.UpdateOptions{})
	return err
}

func (c *Controller) setFinalizer(ctx context.Context, obj *unstructured.Unstructured, present bool) error {
	fins := slices.DeleteFunc(obj.GetFinalizers(), func(f string) bool { return f == Finalizer })
	if present {
		fins = append(fins, Finalizer)
	}
	obj.SetFinalizers(fins)
	_, err := c.dyn.Resource(ChartResource).Namespace(obj.GetNamespace()).Update(ctx, obj, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// fromField converts obj[field] into out.
func fromField(obj *unstructured.Unstructured, field string, out any) error {
	m, ok := obj.Object[field].(map[string]any)
	if !ok {
		return nil
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(m, out)
}
