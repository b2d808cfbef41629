// SPDX-License-Identifier: Apache-2.0

// Package localpath is the local-path storage provisioner, run inside the
// wren server: volumes of the `local-path` StorageClass are directories on
// the node that runs the pod. It keeps rancher/local-path-provisioner's
// contract (provisioner rancher.io/local-path, the kube-system/local-path-config
// ConfigMap with config.json and helperPod.yaml, helper pods that create and
// remove the directories, the same PV shape), without a pod and an image of
// its own. A helper's failure (a full disk, a read-only path) is reported on
// the claim at once, with the helper's message.
package localpath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v10/controller"

	"github.com/wren-k8s/wren/pkg/component"
)

const (
	// ProvisionerName is the StorageClass provisioner this answers for.
	ProvisionerName = "rancher.io/local-path"
	// ConfigMapName holds config.json and helperPod.yaml in kube-system.
	ConfigMapName = "local-path-config"

	selectedNodeAnnotation = "local.path.provisioner/selected-node"
	hostnameLabel          = "kubernetes.io/hostname"
)

// Provisioner is the component: it runs the external-provisioner controller
// with itself as the controller.Provisioner.
type Provisioner struct {
	client func() (kubernetes.Interface, error)
	cs     kubernetes.Interface
	log    *slog.Logger
	component.Task
}

var (
	_ component.Component    = (*Provisioner)(nil)
	_ component.Exiter       = (*Provisioner)(nil)
	_ controller.Provisioner = (*Provisioner)(nil)
)

// NewProvisioner returns the local-path provisioner component.
func NewProvisioner(client func() (kubernetes.Interface, error), log *slog.Logger) *Provisioner {
	return &Provisioner{client: client, log: log}
}

// Name implements component.Component.
func (p *Provisioner) Name() string { return "local-path-provisioner" }

// Start launches the provisioning controller.
func (p *Provisioner) Start(ctx context.Context) error {
	cs, err := p.client()
	if err != nil {
		return err
	}
	p.cs = cs
	// NOTE: no leader election: the library exits the process when it loses
	// a lease. A second server (HA, issue #11) needs wren's own election.
	ctrl := controller.NewProvisionController(klog.Background(), cs, ProvisionerName, p,
		controller.LeaderElection(false), controller.Threadiness(4),
		controller.FailedProvisionThreshold(15), controller.FailedDeleteThreshold(15))
	p.Go(ctx, func(ctx context.Context) error {
		ctrl.Run(ctx)
		return nil
	})
	return nil
}

// Ready implements component.Component.
func (p *Provisioner) Ready(context.Context) error { return nil }

// load reads config.json and helperPod.yaml afresh, so an edit of the
// ConfigMap applies to the next volume.
func (p *Provisioner) load(ctx context.Context) (*Config, *corev1.Pod, error) {
	cm, err := p.cs.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, ConfigMapName, metav1.GetOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("read ConfigMap %s/%s: %w", metav1.NamespaceSystem, ConfigMapName, err)
	}
	cfg, err := ParseConfig([]byte(cm.Data["config.json"]))
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := parseHelperPod(cm.Data["helperPod.yaml"])
	if err != nil {
		return nil, nil, err
	}
	return cfg, tmpl, nil
}

// Provision implements controller.Provisioner.
func (p *Provisioner) Provision(ctx context.Context, opts controller.ProvisionOptions) (*corev1.PersistentVolume, controller.ProvisioningState, error) {
	pv, err := p.provision(ctx, opts)
	if err != nil {
		p.log.Warn("local-path volume not created", "claim", opts.PVC.Namespace+"/"+opts.PVC.Name, "err", err)
		return nil, controller.ProvisioningFinished, err
	}
	return pv, controller.ProvisioningFinished, nil
}

func (p *Provisioner) provision(ctx context.Context, opts controller.ProvisionOptions) (*corev1.PersistentVolume, error) {
	cfg, tmpl, err := p.load(ctx)
	if err != nil {
		return nil, err
	}
	cc, err := cfg.class(opts.StorageClass.Name)
	if err != nil {
		return nil, err
	}
	pvc := opts.PVC
	node, hostname := "", ""
	if cc.shared == "" {
		if err := nodeLocalClaimOK(pvc, opts.SelectedNode); err != nil {
			return nil, err
		}
		node, hostname = opts.SelectedNode.Name, opts.SelectedNode.Name
		if h := opts.SelectedNode.Labels[hostnameLabel]; h != "" {
			hostname = h
		}
	}
	base, err := cc.basePath(node, opts.StorageClass.Parameters["nodePath"])
	if err != nil {
		return nil, err
	}
	dir, err := volumeDir(base, opts.StorageClass.Parameters["pathPattern"], opts.PVName, pvc)
	if err != nil {
		return nil, err
	}
	source, err := volumeSource(opts.StorageClass, pvc, dir)
	if err != nil {
		return nil, err
	}
	storage := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	job := helperJob{action: "create", command: cfg.SetupCommand, pvName: opts.PVName, node: node, path: dir,
		mode: corev1.PersistentVolumeFilesystem, size: storage.Value(), timeout: time.Duration(cfg.CmdTimeout) * time.Second}
	if err := p.run(ctx, tmpl, job); err != nil {
		return nil, err
	}
	p.log.Info("local-path volume created", "pv", opts.PVName, "claim", pvc.Namespace+"/"+pvc.Name, "node", node, "path", dir)
	reclaim := corev1.PersistentVolumeReclaimDelete
	if opts.StorageClass.ReclaimPolicy != nil {
		reclaim = *opts.StorageClass.ReclaimPolicy
	}
	fs := corev1.PersistentVolumeFilesystem
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: opts.PVName, Annotations: map[string]string{selectedNodeAnnotation: node}},
		Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   pvc.Spec.AccessModes,
			VolumeMode:                    &fs,
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: storage},
			PersistentVolumeSource:        source,
		},
	}
	if node != "" {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: hostnameLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{hostname}}},
		}}}}
	}
	return pv, nil
}

// nodeLocalClaimOK checks what a directory on one node can serve.
func nodeLocalClaimOK(pvc *corev1.PersistentVolumeClaim, node *corev1.Node) error {
	if pvc.Spec.Selector != nil {
		return errors.New("a claim with a selector cannot be served by local-path")
	}
	for _, m := range pvc.Spec.AccessModes {
		if m != corev1.ReadWriteOnce && m != corev1.ReadWriteOncePod {
			return fmt.Errorf("access mode %s: local-path serves ReadWriteOnce and ReadWriteOncePod only", m)
		}
	}
	if node == nil {
		return errors.New("no node was selected for the claim: local-path needs volumeBindingMode WaitForFirstConsumer")
	}
	return nil
}

// volumeSource is a hostPath volume, or a local one when the StorageClass
// annotation defaultVolumeType or the claim's annotation volumeType says so.
func volumeSource(sc *storagev1.StorageClass, pvc *corev1.PersistentVolumeClaim, dir string) (corev1.PersistentVolumeSource, error) {
	kind := sc.GetAnnotations()["defaultVolumeType"]
	if v := pvc.Annotations["volumeType"]; v != "" {
		kind = v
	}
	switch strings.ToLower(kind) {
	case "", "hostpath":
		dirOrCreate := corev1.HostPathDirectoryOrCreate
		return corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &dirOrCreate}}, nil
	case "local":
		return corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: dir}}, nil
	}
	return corev1.PersistentVolumeSource{}, fmt.Errorf("volume type %q: want hostPath or local", kind)
}

// Delete implements controller.Provisioner: the teardown command removes
// the directory, on the node the volume lives on.
func (p *Provisioner) Delete(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain {
		return nil
	}
	cfg, tmpl, err := p.load(ctx)
	if err != nil {
		return err
	}
	cc, err := cfg.class(pv.Spec.StorageClassName)
	if err != nil {
		return err
	}
	dir := ""
	switch {
	case pv.Spec.HostPath != nil:
		dir = pv.Spec.HostPath.Path
	case pv.Spec.Local != nil:
		dir = pv.Spec.Local.Path
	default:
		return fmt.Errorf("volume %s has neither a hostPath nor a local path", pv.Name)
	}
	node := ""
	if cc.shared == "" {
		if node = pv.Annotations[selectedNodeAnnotation]; node == "" {
			return fmt.Errorf("volume %s does not name its node (annotation %s)", pv.Name, selectedNodeAnnotation)
		}
	}
	storage := pv.Spec.Capacity[corev1.ResourceStorage]
	job := helperJob{action: "delete", command: cfg.TeardownCommand, pvName: pv.Name, node: node, path: dir,
		mode: corev1.PersistentVolumeFilesystem, size: storage.Value(), timeout: time.Duration(cfg.CmdTimeout) * time.Second}
	if err := p.run(ctx, tmpl, job); err != nil {
		return err
	}
	p.log.Info("local-path volume removed", "pv", pv.Name, "node", node, "path", dir)
	return nil
}

func (p *Provisioner) run(ctx context.Context, tmpl *corev1.Pod, job helperJob) error {
	pod := helperPod(tmpl, job, metav1.NamespaceSystem, ConfigMapName)
	if err := runHelper(ctx, p.cs, pod, job.timeout); err != nil {
		where := job.node
		if where == "" {
			where = "the shared filesystem"
		}
		return fmt.Errorf("local-path could not %s the volume directory %s on %s: %w", job.action, job.path, where, err)
	}
	return nil
}
