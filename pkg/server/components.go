// SPDX-License-Identifier: Apache-2.0

// Package server assembles the components of `wren server` in start order.
package server

import (
	"log/slog"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/wren-k8s/wren/pkg/agent"
	"github.com/wren-k8s/wren/pkg/cloudnode"
	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/control"
	"github.com/wren-k8s/wren/pkg/datastore"
	"github.com/wren-k8s/wren/pkg/pki"
	"github.com/wren-k8s/wren/pkg/supervisor"
	"github.com/wren-k8s/wren/pkg/token"
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
	}, with("kine"))
	apiserver := control.NewAPIServer(control.APIServerConfig{
		BindAddress:   cfg.BindAddress.Addr,
		Port:          cfg.HTTPSPort,
		AdvertiseIP:   d.AdvertiseIP,
		ServiceCIDR:   cfg.ServiceCIDR.Prefix,
		NodePortRange: cfg.NodePortRange.String(),
		ClusterDomain: cfg.ClusterDomain,
		Certs:         certs,
		ExtraArgs:     cfg.ExtraAPIServerArgs,
	}, kine, supervisor.Handler(supervisor.Config{ServerCAFile: certs.ServerCA()}), with("kube-apiserver"))

	cs := []component.Component{
		pki.NewServer(d.TLSDir, d.SANDNS, d.SANIPs, with("pki")),
		token.NewServerFile(d.TokenPath, certs.ServerCA(), cfg.Token),
		kine,
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
		cloudnode.NewController(func() (kubernetes.Interface, error) { return supervisorClient(apiURL, certs) }, with("cloud-node-controller")),
		&adminKubeconfig{path: cfg.KubeconfigOutput, mode: os.FileMode(cfg.KubeconfigMode), credDir: d.CredDir,
			url: apiURL, certs: certs, log: with("admin-kubeconfig")},
	}
	if cfg.DisableAgent {
		return cs, nil
	}
	nodeComponents, err := agent.Components(&cfg.Agent, localCredentials{certs: certs}, log)
	if err != nil {
		return nil, err
	}
	cs = append(cs, nodeComponents...)
	return append(cs, &nodeRole{node: cfg.Agent.AgentDerived.NodeName, url: apiURL, certs: certs}), nil
}
