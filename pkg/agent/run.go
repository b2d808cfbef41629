// SPDX-License-Identifier: Apache-2.0

package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/internal/datadir"
	"github.com/wren-k8s/wren/pkg/internal/gctune"
	"github.com/wren-k8s/wren/pkg/internal/sdnotify"
	"github.com/wren-k8s/wren/pkg/join"
	"github.com/wren-k8s/wren/pkg/loadbalancer"
	"github.com/wren-k8s/wren/pkg/nodepassword"
	"github.com/wren-k8s/wren/pkg/pki"
	"github.com/wren-k8s/wren/pkg/tunnel"
	"github.com/wren-k8s/wren/pkg/version"
)

// Run joins the server in cfg and runs the node until ctx is cancelled. A
// first join is checked (CA pin, token) before anything is written to the
// data directory; a node that joined before starts on its cached
// credentials when the server is unreachable.
func Run(ctx context.Context, cfg *config.RemoteAgent, log *slog.Logger) error {
	if err := pki.CheckLifetimeEnv(); err != nil {
		return err
	}
	pki.TuneClientReload()
	d := cfg.RemoteDerived
	files := Files{Dir: cfg.Agent.AgentDerived.TLSDir}
	joined := fileExists(d.ServerConfigFile) && fileExists(files.ServerCA())
	log.Info("starting wren agent", "version", version.Full(), "server", cfg.ServerURL,
		"node", cfg.Agent.AgentDerived.NodeName, "data-dir", cfg.DataDir)
	client, acfg, err := contact(ctx, cfg, files, joined, log)
	if err != nil {
		return err
	}
	lock, err := datadir.Claim(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	if err := persist(cfg, acfg); err != nil {
		return err
	}
	password, err := nodepassword.Ensure(d.PasswordFile)
	if err != nil {
		return err
	}
	if err := applyServerConfig(cfg, acfg); err != nil {
		return err
	}
	components, err := RemoteComponents(cfg, RemoteCredentials{Client: client, Password: password, Log: log.With("component", "node-credentials")}, log)
	if err != nil {
		return err
	}
	r := &component.Runner{Log: log, OnReady: func() {
		log.Info("wren agent is ready", "node", cfg.Agent.AgentDerived.NodeName)
		sdnotify.ReadyLogged(log)
		gctune.AfterStart(log)
	}}
	return r.Run(ctx, components)
}

// RemoteComponents is a joining node's component list: the client load
// balancer, the node's components (the same list as the server's own node)
// and the tunnel.
func RemoteComponents(cfg *config.RemoteAgent, creds Credentials, log *slog.Logger) ([]component.Component, error) {
	with := func(name string) *slog.Logger { return log.With("component", name) }
	lbAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.LBServerPort))
	a := &cfg.Agent
	lb := loadbalancer.New(loadbalancer.Config{
		Listen: lbAddr, Default: cfg.RemoteDerived.ServerAddress, StateFile: cfg.RemoteDerived.LBStateFile,
		Endpoints: apiEndpoints(controllerKubeconfig(a.AgentDerived.AgentDir)),
	}, with("load-balancer"))
	node, err := Components(a, creds, log)
	if err != nil {
		return nil, err
	}
	files := Files{Dir: a.AgentDerived.TLSDir}
	cert, key := files.KubeletClient()
	ips := []netip.Addr{a.AgentDerived.NodeIP}
	if a.NodeExternalIP.IsValid() {
		ips = append(ips, a.NodeExternalIP.Addr)
	}
	tun := tunnel.NewClient(tunnel.ClientConfig{
		URL: "wss://" + lbAddr + join.PathConnect, CAFile: files.ServerCA(), CertFile: cert, KeyFile: key,
		NodeIPs: ips, AllowedPorts: []int{config.KubeletPort},
		PodPrefixes: tunnelPodPrefixes(cfg.RemoteDerived.EgressSelectorMode, a.Cluster,
			controllerKubeconfig(a.AgentDerived.AgentDir), a.AgentDerived.NodeName),
	}, with("tunnel"))
	cs := append([]component.Component{lb}, node.All()...)
	return append(cs, tun), nil
}

// contact reaches the server: pins its CA and fetches the cluster settings.
// Unreachable servers are retried until ctx ends, except for a node that
// joined before, which starts on its cached settings at once.
func contact(ctx context.Context, cfg *config.RemoteAgent, files Files, joined bool, log *slog.Logger) (*join.Client, join.AgentConfig, error) {
	d := cfg.RemoteDerived
	backoff := time.Second
	for {
		client, acfg, err := tryContact(ctx, cfg, files, joined, log)
		if err == nil {
			return client, acfg, nil
		}
		if !errors.Is(err, join.ErrUnreachable) {
			return nil, join.AgentConfig{}, err
		}
		if joined {
			var cached join.AgentConfig
			b, rerr := os.ReadFile(d.ServerConfigFile)
			if rerr == nil && json.Unmarshal(b, &cached) == nil {
				log.Warn("server unreachable: starting the node on its cached configuration; pods keep running",
					"server", cfg.ServerURL, "err", err)
				return nil, cached, nil
			}
		}
		log.Warn("waiting for the server", "server", cfg.ServerURL, "retry-in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return nil, join.AgentConfig{}, fmt.Errorf("gave up waiting for --server %s: %w", cfg.ServerURL, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func tryContact(ctx context.Context, cfg *config.RemoteAgent, files Files, joined bool, log *slog.Logger) (*join.Client, join.AgentConfig, error) {
	tok := cfg.RemoteDerived.Token
	var client *join.Client
	if ca, err := os.ReadFile(files.ServerCA()); joined && err == nil && tok.CAHash == "" {
		// A bare secret pinned nothing: keep trusting the CA met at the first join.
		client = join.New(cfg.ServerURL, tok, ca)
	} else {
		if client, err = join.Dial(ctx, cfg.ServerURL, tok, log); err != nil {
			return nil, join.AgentConfig{}, err
		}
	}
	if joined {
		client.UseClientCert(files.KubeletClient())
	}
	acfg, err := client.Config(ctx)
	return client, acfg, err
}

// persist writes the node's identity suffix and the server's settings.
func persist(cfg *config.RemoteAgent, acfg join.AgentConfig) error {
	d := cfg.RemoteDerived
	if d.NodeID != "" && !fileExists(d.NodeIDFile) {
		if err := writeFile(d.NodeIDFile, []byte(d.NodeID+"\n")); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(acfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(d.ServerConfigFile, b)
}

// applyServerConfig sets the cluster-wide settings the server announced.
func applyServerConfig(cfg *config.RemoteAgent, acfg join.AgentConfig) error {
	var err error
	c := &cfg.Agent.Cluster
	c.APIURL = "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.LBServerPort))
	c.ClusterDomain = acfg.ClusterDomain
	if c.ClusterCIDR, err = netip.ParsePrefix(acfg.ClusterCIDR); err != nil {
		return fmt.Errorf("server's cluster CIDR: %w", err)
	}
	if c.ServiceCIDR, err = netip.ParsePrefix(acfg.ServiceCIDR); err != nil {
		return fmt.Errorf("server's service CIDR: %w", err)
	}
	if c.ClusterDNS, err = netip.ParseAddr(acfg.ClusterDNS); err != nil {
		return fmt.Errorf("server's cluster DNS: %w", err)
	}
	if acfg.FlannelBackend != "" {
		cfg.Agent.FlannelBackend = acfg.FlannelBackend
	}
	cfg.RemoteDerived.EgressSelectorMode = acfg.EgressSelectorMode
	return nil
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o600)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
