// SPDX-License-Identifier: Apache-2.0

package node

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// KubeletConfig is what the kubelet component needs.
type KubeletConfig struct {
	NodeName      string
	NodeIP        string
	Kubeconfig    string
	RootDir       string
	ConfigPath    string
	ClientCAFile  string
	ServingCert   string
	ServingKey    string
	RuntimeSocket string
	ClusterDNS    string
	ClusterDomain string
	ResolvConf    string
	StaticPodDir  string
	Labels        map[string]string
	Taints        []corev1.Taint
	ExtraArgs     []string
	Host          HostInfo
}

// RenderKubeletConfig renders the KubeletConfiguration file from the typed
// settings and the detected host.
func RenderKubeletConfig(c KubeletConfig) ([]byte, error) {
	kc := kubeletv1beta1.KubeletConfiguration{
		TypeMeta:           metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"},
		Address:            "0.0.0.0",
		Port:               10250,
		ReadOnlyPort:       0,
		HealthzBindAddress: "127.0.0.1",
		HealthzPort:        ptr.To[int32](10248),
		Authentication: kubeletv1beta1.KubeletAuthentication{
			Anonymous: kubeletv1beta1.KubeletAnonymousAuthentication{Enabled: ptr.To(false)},
			Webhook:   kubeletv1beta1.KubeletWebhookAuthentication{Enabled: ptr.To(true), CacheTTL: metav1.Duration{Duration: 2 * time.Minute}},
			X509:      kubeletv1beta1.KubeletX509Authentication{ClientCAFile: c.ClientCAFile},
		},
		Authorization:            kubeletv1beta1.KubeletAuthorization{Mode: kubeletv1beta1.KubeletAuthorizationModeWebhook},
		TLSCertFile:              c.ServingCert,
		TLSPrivateKeyFile:        c.ServingKey,
		ContainerRuntimeEndpoint: "unix://" + c.RuntimeSocket,
		CgroupDriver:             "cgroupfs",
		ClusterDomain:            c.ClusterDomain,
		ResolverConfig:           ptr.To(c.ResolvConf),
		StaticPodPath:            c.StaticPodDir,
		SerializeImagePulls:      ptr.To(false),
		FailSwapOn:               ptr.To(false),
		ProtectKernelDefaults:    false,
		RegisterWithTaints:       c.Taints,
		// As k3s: lower disk thresholds suit small edge disks.
		EvictionHard: map[string]string{
			"imagefs.available": "5%",
			"nodefs.available":  "5%",
			"memory.available":  "100Mi",
			"nodefs.inodesFree": "5%",
		},
		EvictionMinimumReclaim: map[string]string{"imagefs.available": "10%", "nodefs.available": "10%"},
	}
	if c.ClusterDNS != "" {
		kc.ClusterDNS = []string{c.ClusterDNS}
	}
	if !c.Host.CgroupV2 {
		// NOTE: kubelet 1.36 refuses cgroup v1 unless told otherwise; hosts
		// with only v1 hierarchies (like old kernels and some VMs) are common at the edge.
		kc.FailCgroupV1 = ptr.To(false)
	}
	if !c.Host.CanLowerOOMScore {
		// Without CAP_SYS_RESOURCE the kubelet cannot lower its own score.
		kc.OOMScoreAdj = ptr.To[int32](0)
	}
	return marshalPruned(kc)
}

// marshalPruned renders a config struct as YAML without the zero durations
// and empty blocks its non-omitempty fields produce, so the file shows only
// what wren sets; the kubelet defaults the rest exactly as if they were zero.
func marshalPruned(v any) ([]byte, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "logging") // wren's logging is set in-process
	prune(m)
	return yaml.Marshal(m)
}

func prune(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if x == "0s" {
				delete(m, k)
			}
		case map[string]any:
			prune(x)
			if len(x) == 0 {
				delete(m, k)
			}
		}
	}
}
