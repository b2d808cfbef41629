// SPDX-License-Identifier: Apache-2.0

package localpath

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

func TestFailure(t *testing.T) {
	t.Parallel()
	pod := &corev1.Pod{
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Args: []string{"-p",
			"/var/lib/wren/storage/pvc-1234_team-a_data_claim", "-s", "10", "-m", "Filesystem", "-a", "create"}}}},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "local-path-helper: mkdir /x: no space left on device\n"}}}}},
	}
	claim, action, msg := Failure(pod)
	require.NotNil(t, claim)
	assert.Equal(t, "team-a", claim.Namespace)
	assert.Equal(t, "data_claim", claim.Name, "claim names may contain underscores")
	assert.Equal(t, "create", action)
	assert.Equal(t, "local-path-helper: mkdir /x: no space left on device", msg)

	claim, _, _ = Failure(&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Args: []string{"-p", "/weird"}}}}})
	assert.Nil(t, claim)
}
