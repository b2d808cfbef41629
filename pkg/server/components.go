// SPDX-License-Identifier: Apache-2.0

// Package server assembles the components of `wren server` in start order.
package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/wren-k8s/wren/manifests"
	"github.com/wren-k8s/wren/pkg/agent"
	"github.com/wren-k8s/wren/pkg/cloudnode"
	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/control"
	"github.com/wren-k8s/wren/pkg/coredns"
	"github.com/wren-k8s/wren/pkg/datastore"
	"github.com/wren-k8s/wren/pkg/deploy"
	"github.com/wren-k8s/wren/pkg/helm"
	"github.com/wren-k8s/wren/pkg/join"
	"github.com/wren-k8s/wren/pkg/localpath"
	"github.com/wren-k8s/wren/pkg/nodepassword"
	"github.com/wren-k8s/wren/pkg/pki"
	"github.com/wren-k8s/wren/pkg/secretsencrypt"
	"github.com/wren-k8s/wren/pkg/servicelb"
	"github.com/wren-k8s/wren/pkg/supervisor"
	"github.com/wren-k8s/wren/pkg/token"
	"github.com/wren-k8s/wren/pkg/version"
)

// Components returns the server's components in start order. cfg must be
// completed and validated.
func Components(cfg *config.Server, log *slog.Logger) ([]component.Component, error) {
	d := cfg.Derived
	certs := pki.Paths{Dir: d.TLSDir}
	apiURL := d.APIURL
	with := func(name string) *slog.Logger { return log.With("component", name) }

	kine := datastore.New(datastore.Config{
		Endpoint:       d.Datastore,
		Socket:         d.KineSocket,
		ConnectTimeout: time.Duration(cfg.DatastoreConnectTimeout),
		CAFile:         cfg.DatastoreCAFile,
		CertFile:       cfg.DatastoreCertFile,
		KeyFile:        cfg.DatastoreKeyFile,
		SQLitePageSize: d.SQLitePageSize,
	}, with("kine"))
	var apiReady func(context.Context) error
	supClient := func() (kubernetes.Interface, error) { return supervisorClient(apiURL, certs) }
	encryption := secretsencrypt.New(secretsencrypt.Config{
		ConfigFile: d.EncryptionConfig,
		StateFile:  d.EncryptionState,
		Enable:     cfg.SecretsEncryption,
		Provider:   cfg.SecretsEncryptionProvider,
		Client: func() (kubernetes.Interface, error) {
			// Re-encryption writes every Secret back: not at the default 5/s.
			rc, err := supervisorRESTConfig(apiURL, certs)
			if err != nil {
				return nil, err
			}
			rc.QPS, rc.Burst = 200, 400
			return kubernetes.NewForConfig(rc)
		},
		Loaded: control.EncryptionConfigHash,
		Log:    with("secrets-encryption"),
	})
	encryptionFile := ""
	if secretsencrypt.Configured(d.EncryptionConfig, cfg.SecretsEncryption) {
		encryptionFile = d.EncryptionConfig
	}
	sup := supervisor.New(supervisor.Config{
		ServerCAFile: certs.ServerCA(),
		StaticDir:    helm.StaticDir(d.ServerDir),
		Certs:        certs,
		Tokens: token.Checker{ServerFile: d.TokenPath, AgentFile: d.AgentTokenPath,
			Bootstrap: token.SecretLookup(supClient)},
		Agent: join.AgentConfig{
			ClusterCIDR: cfg.ClusterCIDR.String(), ServiceCIDR: cfg.ServiceCIDR.String(),
			ClusterDNS: cfg.ClusterDNS.String(), ClusterDomain: cfg.ClusterDomain,
			FlannelBackend: cfg.Agent.FlannelBackend, EgressSelectorMode: cfg.EgressSelectorMode,
		},
		Client:     supClient,
		Encryption: encryption,
		Ready:      func(ctx context.Context) error { return apiReady(ctx) },
		PProf:      cfg.EnablePProf,
		Log:        with("supervisor"),
	})
	egressFile, egressSocket := "", filepath.Join(d.ServerDir, "egress.sock")
	if cfg.EgressSelectorMode != config.EgressDisabled {
		egressFile = filepath.Join(d.EtcDir, "egress-selector-config.yaml")
	}
	apiserver := control.NewAPIServer(control.APIServerConfig{
		BindAddress:          cfg.BindAddress.Addr,
		Port:                 cfg.HTTPSPort,
		AdvertiseIP:          d.AdvertiseIP,
		ServiceCIDR:          cfg.ServiceCIDR.Prefix,
		NodePortRange:        cfg.NodePortRange.String(),
		ClusterDomain:        cfg.ClusterDomain,
		Certs:                certs,
		EgressConfigFile:     egressFile,
		EgressSocket:         egressSocket,
		EncryptionConfigFile: encryptionFile,
		AuditPolicyFile:      filepath.Join(d.EtcDir, "audit-policy.yaml"),
		SingleServer:         d.DatastoreScheme == "sqlite",
		ExtraArgs:            cfg.ExtraAPIServerArgs,
	}, kine, sup.Wrap, with("kube-apiserver"))
	apiReady = apiserver.Ready

	first := []component.Component{
		pki.NewServer(d.TLSDir, d.SANDNS, d.SANIPs, with("pki")),
		token.NewServerFile(d.TokenPath, certs.ServerCA(), cfg.Token, d.AgentTokenPath, cfg.AgentToken, with("token")),
	}
	controlPlane := []component.Component{
		kine,
		encryption,
		sup.Egress(egressSocket),
		apiserver,
		control.NewControllerManager(control.ControllerManagerConfig{
			APIURL:      apiURL,
			Certs:       certs,
			CredDir:     d.CredDir,
			ClusterCIDR: cfg.ClusterCIDR.Prefix,
			ServiceCIDR: cfg.ServiceCIDR.Prefix,
			Port:        d.ControllerManagerPort,
			LeaderElect: d.LeaderElect,
			ExtraArgs:   cfg.ExtraControllerManagerArgs,
		}, with("kube-controller-manager")),
		control.NewScheduler(control.SchedulerConfig{
			APIURL:      apiURL,
			Certs:       certs,
			CredDir:     d.CredDir,
			Port:        d.SchedulerPort,
			LeaderElect: d.LeaderElect,
			ExtraArgs:   cfg.ExtraSchedulerArgs,
		}, with("kube-scheduler")),
		&rbac{url: apiURL, certs: certs},
		nodepassword.NewCleaner(supClient, with("node-password-cleaner")),
		cloudnode.NewController(supClient, with("cloud-node-controller")),
		&adminKubeconfig{path: cfg.KubeconfigOutput, mode: os.FileMode(cfg.KubeconfigMode), credDir: d.CredDir,
			url: apiURL, certs: certs, log: with("admin-kubeconfig")},
	}
	controlPlane = append(controlPlane, addons(cfg, certs, with)...)
	if cfg.DisableAgent {
		return append(first, controlPlane...), nil
	}
	node, err := agent.Components(&cfg.Agent, localCredentials{certs: certs, passwordFile: filepath.Join(cfg.Agent.AgentDerived.AgentDir, "node-password"),
		client: supClient}, log)
	if err != nil {
		return nil, err
	}
	// The node's container runtime needs nothing from the control plane:
	// both start at once, and the kubelet after both.
	cs := append(first, &component.Parallel{Label: "control-plane+runtime", Lists: [][]component.Component{controlPlane, node.Runtime}})
	cs = append(cs, node.Rest...)
	return append(cs, &nodeRole{node: cfg.Agent.AgentDerived.NodeName, url: apiURL, certs: certs}), nil
}

// addons returns the add-on components: the Helm controller (whose kinds
// the manifests may use), the deploy controller for the manifests folder,
// ServiceLB, CoreDNS's NodeHosts and the local-path provisioner.
func addons(cfg *config.Server, certs pki.Paths, with func(string) *slog.Logger) []component.Component {
	d := cfg.Derived
	restConfig := func() (*rest.Config, error) { return supervisorRESTConfig(d.APIURL, certs) }
	client := func() (kubernetes.Interface, error) { return supervisorClient(d.APIURL, certs) }
	var cs []component.Component
	if !d.Disabled[config.AddonHelmController] {
		cs = append(cs, helm.NewController(helm.Config{
			Kubeconfig:   filepath.Join(d.CredDir, "admin.kubeconfig"),
			CacheDir:     filepath.Join(d.ServerDir, "helm", "cache"),
			APIHost:      strings.TrimPrefix(d.APIURL, "https://"),
			ServerCAFile: certs.ServerCA(),
		}, restConfig, with("helm-controller")))
	}
	cs = append(cs,
		deploy.NewController(&deploy.Stager{
			Dir:      filepath.Join(d.ServerDir, "manifests"),
			Bundled:  manifests.FS,
			Vars:     manifestVars(cfg),
			Disabled: d.Disabled,
			Log:      with("deploy"),
		}, 5*time.Second, restConfig, with("deploy")),
		servicelb.NewController(client, d.Disabled[config.AddonServiceLB], with("servicelb")),
		coredns.NewNodeHosts(client, with("coredns-nodehosts")),
	)
	if !d.Disabled[config.AddonLocalStorage] {
		cs = append(cs, localpath.NewProvisioner(client, with("local-path-provisioner")))
	}
	return cs
}

// manifestVars are the values of the bundled manifests' %{NAME}% placeholders.
func manifestVars(cfg *config.Server) map[string]string {
	registry := cfg.SystemDefaultRegistry
	if registry != "" {
		registry = strings.TrimSuffix(registry, "/") + "/"
	}
	return map[string]string{
		"CLUSTER_DNS":                cfg.ClusterDNS.String(),
		"CLUSTER_DOMAIN":             cfg.ClusterDomain,
		"DEFAULT_LOCAL_STORAGE_PATH": cfg.Derived.StoragePath,
		"SYSTEM_DEFAULT_REGISTRY":    registry,
		"COREDNS_IMAGE":              version.CoreDNSImage,
		"METRICS_SERVER_IMAGE":       version.MetricsServerImage,
		"LOCAL_PATH_HELPER_IMAGE":    version.LocalPathHelperImage,
		"WREN_BINARY":                filepath.Join(cfg.Agent.RunDir, "bin", "wren"),
	}
}
