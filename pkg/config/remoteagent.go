// SPDX-License-Identifier: Apache-2.0

package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wren-k8s/wren/pkg/internal/fserr"
	"github.com/wren-k8s/wren/pkg/token"
)

// DefaultLBServerPort is the agent's client load balancer port (k3s's 6444).
const DefaultLBServerPort = 6444

// RemoteAgent is the configuration of `wren agent`: a node that joins a
// server over the network.
type RemoteAgent struct {
	DataDir string
	// ServerURL is --server, https://host:port.
	ServerURL string
	Token     string
	TokenFile string
	// LBServerPort is the local port of the client load balancer.
	LBServerPort int
	// WithNodeID appends a random, persisted suffix to the node name.
	WithNodeID bool

	Debug     bool
	Verbosity int
	VModule   string

	// Agent holds the node settings shared with `wren server`.
	Agent Agent

	// RemoteDerived is filled by Complete.
	RemoteDerived RemoteDerived
}

// RemoteDerived holds values computed by RemoteAgent.Complete.
type RemoteDerived struct {
	// Token is the parsed join token.
	Token token.Token
	// ServerAddress is the --server host:port.
	ServerAddress string
	// NodeIDFile keeps the --with-node-id suffix; NodeID is its value.
	NodeIDFile, NodeID string
	// PasswordFile keeps the node password.
	PasswordFile string
	// ServerConfigFile caches the server's AgentConfig for starts while the server is away.
	ServerConfigFile string
	// LBStateFile persists the load balancer's server list.
	LBStateFile string
	// EgressSelectorMode is the server's (from its agent config): what the
	// tunnel lets the server dial on this node.
	EgressSelectorMode string
}

// DefaultRemoteAgent returns `wren agent`'s defaults.
func DefaultRemoteAgent() *RemoteAgent {
	return &RemoteAgent{DataDir: DefaultDataDir(), LBServerPort: DefaultLBServerPort, Agent: DefaultAgent()}
}

// Complete derives paths and identity; like Server.Complete it only reads.
func (r *RemoteAgent) Complete() error {
	abs, err := filepath.Abs(r.DataDir)
	if err != nil {
		return fmt.Errorf("--data-dir %q: %w", r.DataDir, err)
	}
	r.DataDir = abs
	if r.TokenFile != "" {
		if r.Token != "" {
			return errors.New("--token and --token-file: give only one")
		}
		b, err := os.ReadFile(r.TokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", fserr.Cause(err))
		}
		if r.Token = strings.TrimSpace(string(b)); r.Token == "" {
			return fmt.Errorf("--token-file %s: empty", r.TokenFile)
		}
	}
	d := &r.RemoteDerived
	if u, err := url.Parse(r.ServerURL); err == nil && u.Hostname() != "" {
		port := u.Port()
		if port == "" {
			port = strconv.Itoa(DefaultHTTPSPort)
		}
		d.ServerAddress = net.JoinHostPort(u.Hostname(), port)
	}
	agentDir := filepath.Join(abs, "agent")
	d.NodeIDFile = filepath.Join(agentDir, "node-id")
	d.PasswordFile = filepath.Join(agentDir, "node-password")
	d.ServerConfigFile = filepath.Join(agentDir, "etc", "server-config.json")
	d.LBStateFile = filepath.Join(agentDir, "etc", "wren-agent-load-balancer.json")
	if r.WithNodeID {
		if b, err := os.ReadFile(d.NodeIDFile); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			d.NodeID = strings.TrimSpace(string(b))
		} else {
			buf := make([]byte, 4)
			_, _ = rand.Read(buf)
			d.NodeID = hex.EncodeToString(buf)
		}
	}
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("hostname: %w", err)
	}
	hostname := strings.ToLower(host)
	if err := r.Agent.CompleteAgent(abs, hostIP(), hostname); err != nil {
		return err
	}
	if d.NodeID != "" {
		r.Agent.AgentDerived.NodeName += "-" + d.NodeID
	}
	return nil
}

// Validate checks the settings after Complete, one line per problem.
func (r *RemoteAgent) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.ServerURL == "" {
		add("--server: required (https://<server>:6443, or $WREN_URL)")
	} else if u, err := url.Parse(r.ServerURL); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		add("--server %q: want https://host:port", r.ServerURL)
	}
	if r.Token == "" {
		add("--token: required (the server's token, from <data-dir>/server/token or agent-token; or $WREN_TOKEN, --token-file)")
	} else if t, err := token.Parse(r.Token); err != nil {
		add("--token: %v", err)
	} else {
		if t.User == token.UserServer && t.CAHash == "" {
			t.User = token.UserNode
		}
		r.RemoteDerived.Token = t
	}
	if r.LBServerPort < 1 || r.LBServerPort > 65535 {
		add("--lb-server-port %d: must be between 1 and 65535", r.LBServerPort)
	}
	errs = append(errs, r.Agent.ValidateAgent()...)
	return errors.Join(errs...)
}
