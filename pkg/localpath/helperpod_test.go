// SPDX-License-Identifier: Apache-2.0

package localpath

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

const helperTemplate = `apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
  labels: {app.kubernetes.io/name: local-path-helper}
spec:
  containers:
  - name: helper-pod
    image: wrenk8s/local-path-helper:v0.1.0
`

func TestHelperPod(t *testing.T) {
	t.Parallel()
	tmpl, err := parseHelperPod(helperTemplate)
	require.NoError(t, err)
	job := helperJob{action: "create", command: "/local-path-helper", pvName: "pvc-0123", node: "n1",
		path: "/var/lib/wren/storage/pvc-0123_ns_data", mode: corev1.PersistentVolumeFilesystem, size: 1 << 20}
	pod := helperPod(tmpl, job, "kube-system", ConfigMapName)
	assert.Equal(t, "helper-pod-create-pvc-0123", pod.Name)
	assert.Equal(t, "kube-system", pod.Namespace)
	assert.Equal(t, "n1", pod.Spec.NodeName)
	assert.Equal(t, ServiceAccount, pod.Spec.ServiceAccountName)
	assert.Equal(t, corev1.RestartPolicyNever, pod.Spec.RestartPolicy)
	assert.Equal(t, "local-path-helper", pod.Labels["app.kubernetes.io/name"])
	c := pod.Spec.Containers[0]
	assert.Equal(t, []string{"/local-path-helper"}, c.Command)
	assert.Equal(t, []string{"-p", job.path, "-s", "1048576", "-m", "Filesystem", "-a", "create"}, c.Args)
	assert.Equal(t, "/var/lib/wren/storage/", pod.Spec.Volumes[0].HostPath.Path)
	assert.Equal(t, "/var/lib/wren/storage/", c.VolumeMounts[0].MountPath)
	assert.Contains(t, c.Env, corev1.EnvVar{Name: "VOL_DIR", Value: job.path})
	assert.Empty(t, tmpl.Spec.Volumes, "the template is not changed")

	// No command configured: upstream's script from the ConfigMap.
	job.command, job.action = "", "delete"
	pod = helperPod(tmpl, job, "kube-system", ConfigMapName)
	assert.Equal(t, []string{"/bin/sh", "/script/teardown"}, pod.Spec.Containers[0].Command)
	assert.Equal(t, ConfigMapName, pod.Spec.Volumes[1].ConfigMap.Name)

	_, err = parseHelperPod("apiVersion: v1\nkind: Pod\nspec: {}\n")
	assert.ErrorContains(t, err, "no container")
	_, err = parseHelperPod("spec: {containerz: []}\n")
	assert.ErrorContains(t, err, "helperPod.yaml")
}

func TestVolumeSource(t *testing.T) {
	t.Parallel()
	sc := &storagev1.StorageClass{}
	pvc := &corev1.PersistentVolumeClaim{}
	src, err := volumeSource(sc, pvc, "/d")
	require.NoError(t, err)
	require.NotNil(t, src.HostPath)
	assert.Equal(t, corev1.HostPathDirectoryOrCreate, *src.HostPath.Type)
	pvc.Annotations = map[string]string{"volumeType": "Local"}
	src, err = volumeSource(sc, pvc, "/d")
	require.NoError(t, err)
	assert.Equal(t, "/d", src.Local.Path)
	pvc.Annotations["volumeType"] = "nfs"
	_, err = volumeSource(sc, pvc, "/d")
	assert.ErrorContains(t, err, `volume type "nfs"`)
}
