// SPDX-License-Identifier: Apache-2.0

package localpath

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// ServiceAccount runs the helper pods (created by the bundled manifest).
const ServiceAccount = "local-path-provisioner-service-account"

// helperJob is one run of the setup or teardown command on a node.
type helperJob struct {
	action  string // "create" or "delete"
	command string // config.json's setupCommand or teardownCommand
	pvName  string
	node    string // "" on a shared filesystem: any node may run it
	path    string // the volume directory
	mode    corev1.PersistentVolumeMode
	size    int64
	timeout time.Duration
}

// parseHelperPod reads helperPod.yaml, the template of the helper pods.
func parseHelperPod(data string) (*corev1.Pod, error) {
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(data), &pod); err != nil {
		return nil, fmt.Errorf("helperPod.yaml: %w", err)
	}
	if len(pod.Spec.Containers) == 0 {
		return nil, errors.New("helperPod.yaml: the pod has no container")
	}
	return &pod, nil
}

// helperPod builds the pod that runs job, as upstream does: the template's
// first container gets the command and -p DIR -s SIZE -m MODE -a ACTION,
// the parent directory is mounted at the same path, and VOL_DIR, VOL_MODE
// and VOL_SIZE_BYTES are set. With no command configured, it runs the
// ConfigMap's setup or teardown script with /bin/sh.
func helperPod(tmpl *corev1.Pod, job helperJob, namespace, configMap string) *corev1.Pod {
	pod := tmpl.DeepCopy()
	parent, _ := filepath.Split(job.path)
	pod.Name = truncate(fmt.Sprintf("%s-%s-%s", tmpl.Name, job.action, job.pvName), 63)
	pod.Namespace = namespace
	pod.Spec.NodeName = job.node
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.ServiceAccountName = ServiceAccount
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists})
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: parent, Type: &dirOrCreate}}})
	c := &pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "data", MountPath: parent})
	c.Env = append(c.Env,
		corev1.EnvVar{Name: "VOL_DIR", Value: job.path},
		corev1.EnvVar{Name: "VOL_MODE", Value: string(job.mode)},
		corev1.EnvVar{Name: "VOL_SIZE_BYTES", Value: strconv.FormatInt(job.size, 10)})
	c.Command = []string{job.command}
	if job.command == "" {
		script := map[string]string{"create": "setup", "delete": "teardown"}[job.action]
		c.Command = []string{"/bin/sh", "/script/" + script}
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "script", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: configMap},
				Items: []corev1.KeyToPath{{Key: "setup", Path: "setup"}, {Key: "teardown", Path: "teardown"}}}}})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "script", MountPath: "/script"})
	}
	c.Args = []string{"-p", job.path, "-s", strconv.FormatInt(job.size, 10), "-m", string(job.mode), "-a", job.action}
	return pod
}

// runHelper creates the helper pod and waits for it to succeed, fail (with
// the helper's own message) or time out; the pod is deleted afterwards.
func runHelper(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, timeout time.Duration) error {
	pods := cs.CoreV1().Pods(pod.Namespace)
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create helper pod %s: %w", pod.Name, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = pods.Delete(ctx, pod.Name, metav1.DeleteOptions{})
	}()
	var failure error
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		got, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil // retried until the timeout
		}
		switch got.Status.Phase {
		case corev1.PodSucceeded:
			return true, nil
		case corev1.PodFailed:
			failure = errors.New(terminationMessage(got))
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("helper pod %s did not finish within %s", pod.Name, timeout)
	}
	return failure
}

// terminationMessage is what the failed helper said (its stderr, through
// terminationMessagePolicy: FallbackToLogsOnError).
func terminationMessage(pod *corev1.Pod) string {
	for _, s := range pod.Status.ContainerStatuses {
		if t := s.State.Terminated; t != nil && strings.TrimSpace(t.Message) != "" {
			return strings.TrimSpace(t.Message)
		}
	}
	return "the helper pod failed"
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = strings.TrimRight(s[:n], "-.")
	}
	return s
}
