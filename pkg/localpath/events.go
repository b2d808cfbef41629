// SPDX-License-Identifier: Apache-2.0

// Package localpath reports why a local-path volume could not be created.
// local-path-provisioner runs a helper pod per volume and, when the helper
// fails (a full disk, a read-only path), only times out after two minutes
// with a vague message. This controller watches the helper pods and puts
// the helper's own error on the PersistentVolumeClaim as an event at once.
package localpath

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/events"
)

// HelperLabel marks the helper pods (set in the bundled helperPod.yaml).
const HelperLabel = "app.kubernetes.io/name=local-path-helper"

// Events is the component.
type Events struct {
	client func() (kubernetes.Interface, error)
	log    *slog.Logger
	component.Task
}

var (
	_ component.Component = (*Events)(nil)
	_ component.Exiter    = (*Events)(nil)
)

// NewEvents returns the local-path events component.
func NewEvents(client func() (kubernetes.Interface, error), log *slog.Logger) *Events {
	return &Events{client: client, log: log}
}

// Name implements component.Component.
func (e *Events) Name() string { return "local-path-events" }

// Start watches the helper pods in kube-system.
func (e *Events) Start(ctx context.Context) error {
	cs, err := e.client()
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(metav1.NamespaceSystem),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = HelperLabel }))
	recorder, stopEvents := events.NewRecorder(ctx, cs, "wren-local-path")
	seen := map[types.UID]bool{}
	report := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.Status.Phase != corev1.PodFailed || seen[pod.UID] {
			return
		}
		seen[pod.UID] = true
		claim, action, msg := Failure(pod)
		if claim == nil {
			return
		}
		e.log.Warn("local-path volume helper failed", "claim", claim.Namespace+"/"+claim.Name, "action", action, "err", msg)
		recorder.Eventf(claim, corev1.EventTypeWarning, "ProvisioningFailed", "local-path could not %s the volume directory: %s", action, msg)
	}
	pods := factory.Core().V1().Pods().Informer()
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: report, UpdateFunc: func(_, o any) { report(o) }}); err != nil {
		return err
	}
	e.Go(ctx, func(ctx context.Context) error {
		defer stopEvents()
		factory.Start(ctx.Done())
		<-ctx.Done()
		factory.Shutdown()
		return nil
	})
	return nil
}

// Ready implements component.Component.
func (e *Events) Ready(context.Context) error { return nil }

// Failure reads a failed helper pod: the claim it worked for (from the
// volume directory, <pv>_<namespace>_<claim>), the action and the helper's
// error message.
func Failure(pod *corev1.Pod) (*corev1.ObjectReference, string, string) {
	if len(pod.Spec.Containers) == 0 {
		return nil, "", ""
	}
	var dir, action string
	args := pod.Spec.Containers[0].Args
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-p":
			dir = args[i+1]
		case "-a":
			action = args[i+1]
		}
	}
	parts := strings.SplitN(filepath.Base(dir), "_", 3)
	if len(parts) != 3 {
		return nil, "", ""
	}
	msg := "the helper pod failed"
	for _, s := range pod.Status.ContainerStatuses {
		if t := s.State.Terminated; t != nil && strings.TrimSpace(t.Message) != "" {
			msg = strings.TrimSpace(t.Message)
		}
	}
	claim := &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: parts[1], Name: parts[2]}
	return claim, action, fmt.Sprint(msg)
}
