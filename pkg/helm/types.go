// SPDX-License-Identifier: Apache-2.0

// Package helm runs the HelmChart controller in-process: the k3s-compatible
// helm.cattle.io/v1 HelmChart and HelmChartConfig kinds, installed and
// upgraded with Helm's Go SDK (no job pod, no image), from a repository, an
// inline chart, or a URL (such as a chart the server serves under /static/).
package helm

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The API group and kinds, as in k3s.
const (
	Group   = "helm.cattle.io"
	Version = "v1"
)

// Resources of the two kinds.
var (
	ChartResource  = schema.GroupVersionResource{Group: Group, Version: Version, Resource: "helmcharts"}
	ConfigResource = schema.GroupVersionResource{Group: Group, Version: Version, Resource: "helmchartconfigs"}
)

// ChartSpec is a HelmChart's spec (the fields wren acts on).
type ChartSpec struct {
	// Chart is a chart name in Repo, or a URL of a chart archive.
	Chart   string `json:"chart,omitempty"`
	Repo    string `json:"repo,omitempty"`
	RepoCA  string `json:"repoCA,omitempty"`
	Version string `json:"version,omitempty"`
	// ChartContent is a base64-encoded chart archive.
	ChartContent    string                        `json:"chartContent,omitempty"`
	TargetNamespace string                        `json:"targetNamespace,omitempty"`
	CreateNamespace bool                          `json:"createNamespace,omitempty"`
	ValuesContent   string                        `json:"valuesContent,omitempty"`
	Set             map[string]intstr.IntOrString `json:"set,omitempty"`
	Timeout         *metav1.Duration              `json:"timeout,omitempty"`
	// FailurePolicy is reinstall (default: uninstall a failed release and
	// install again) or abort (leave it for the user).
	FailurePolicy string `json:"failurePolicy,omitempty"`
}

// ConfigSpec is a HelmChartConfig's spec: values layered over the chart's.
type ConfigSpec struct {
	ValuesContent string `json:"valuesContent,omitempty"`
	FailurePolicy string `json:"failurePolicy,omitempty"`
}

// Condition types set on a HelmChart's status.
const (
	ConditionReady  = "Ready"
	ConditionFailed = "Failed"
)

// ChartStatus is a HelmChart's status as wren writes it.
type ChartStatus struct {
	// AppliedHash identifies the chart and values last installed successfully.
	AppliedHash string             `json:"appliedHash,omitempty"`
	Revision    int                `json:"revision,omitempty"`
	Conditions  []metav1.Condition `json:"conditions,omitempty"`
}
