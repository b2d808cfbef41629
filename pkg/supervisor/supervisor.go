// SPDX-License-Identifier: Apache-2.0

// Package supervisor serves wren's own endpoints on the API port, in front of
// kube-apiserver's handler chain: /cacerts and /ping, the join routes under
// /v1-wren/ (agent config, node certificates, readiness, the agents' tunnel,
// secrets encryption, token rotation); and, on a unix socket, the
// apiserver's own HTTP CONNECT egress to kubelets. Every other request goes
// to the apiserver untouched.
package supervisor

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/client-go/kubernetes"

	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/join"
	"github.com/wren-k8s/wren/pkg/nodecert"
	"github.com/wren-k8s/wren/pkg/pki"
	"github.com/wren-k8s/wren/pkg/token"
	"github.com/wren-k8s/wren/pkg/tunnel"
)

// Config locates what the supervisor serves.
type Config struct {
	// ServerCAFile is the CA bundle served at /cacerts; join tokens pin its hash.
	ServerCAFile string
	// StaticDir's files are served, without authentication, under /static/
	// (Helm charts for HelmCharts to install offline).
	StaticDir string
	// Certs holds the CAs that sign joining nodes' certificates.
	Certs pki.Paths
	// Tokens checks join credentials.
	Tokens token.Checker
	// Agent is the cluster configuration served to joining nodes.
	Agent join.AgentConfig
	// Client reaches the API as the supervisor (node passwords).
	Client func() (kubernetes.Interface, error)
	// Encryption runs `wren secrets-encrypt` (status and commands).
	Encryption Encryption
	// Ready reports whether the API serves (for /v1-wren/readyz).
	Ready func(context.Context) error
	// PProf serves Go's profiles under /debug/pprof/ to admin clients.
	PProf bool
	Log   *slog.Logger
}

// Supervisor serves wren's routes in front of the apiserver (Wrap) and the
// apiserver's egress on a unix socket (Egress).
type Supervisor struct{ s *supervisor }

// New returns the supervisor.
func New(cfg Config) *Supervisor {
	s := &supervisor{cfg: cfg}
	s.tunnel = tunnel.NewServer(s.nodeOf, cfg.Log.With("component", "tunnel-server"))
	if m := cfg.Agent.EgressSelectorMode; m == config.EgressPod || m == config.EgressCluster {
		s.tunnel.RoutePods(s.podRoutes)
	}
	return &Supervisor{s: s}
}

// Wrap puts the supervisor's routes in front of the apiserver's handler.
// authn authenticates like the apiserver does (client certificates); routes
// that need an identity use it. It is called once, when the apiserver builds
// its handler chain.
func (sup *Supervisor) Wrap(apiserver http.Handler, authn authenticator.Request) http.Handler {
	s := sup.s
	s.authn = authn
	cfg := s.cfg
	get := map[string]http.HandlerFunc{
		join.PathCACerts: s.caCerts,
		"/ping": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("pong"))
		},
		join.PathConfig:   s.withToken(s.agentConfig),
		join.PathReadyz:   s.readyz,
		join.PathConnect:  s.tunnel.ServeHTTP,
		PathEncryptStatus: s.withServerToken(s.encryptStatus),
	}
	post := map[string]http.HandlerFunc{
		join.PathNodeCerts: s.withToken(s.nodeCerts),
		PathEncryptConfig:  s.withServerToken(s.encryptCommand),
		PathToken:          s.withServerToken(s.rotateToken),
	}
	// A plain lookup rather than http.ServeMux: the mux would clean and
	// redirect paths that belong to the apiserver.
	static := staticFiles(cfg.StaticDir)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			if h, ok := get[r.URL.Path]; ok {
				h(w, r)
				return
			}
			if cfg.PProf && strings.HasPrefix(r.URL.Path, pprofPrefix) {
				s.pprof(w, r)
				return
			}
			if cfg.StaticDir != "" && strings.HasPrefix(r.URL.Path, "/static/") {
				static.ServeHTTP(w, r)
				return
			}
		case http.MethodPost:
			if h, ok := post[r.URL.Path]; ok {
				h(w, r)
				return
			}
		}
		if strings.HasPrefix(r.URL.Path, "/v1-wren/") {
			http.Error(w, "no such wren route or method", http.StatusNotFound)
			return
		}
		apiserver.ServeHTTP(w, r)
	})
}

type supervisor struct {
	cfg    Config
	authn  authenticator.Request
	tunnel *tunnel.Server
}

func (s *supervisor) caCerts(w http.ResponseWriter, _ *http.Request) {
	ca, err := os.ReadFile(s.cfg.ServerCAFile)
	if err != nil {
		http.Error(w, "CA bundle unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(ca)
}

// certNodeKey marks, in a request's context, the node whose client
// certificate (not a token) let the request in.
type certNodeKey struct{}

// withToken lets through requests whose basic-auth credentials are a valid
// join token, or that carry a node's client certificate (a node that joined
// before, whose bootstrap token may have expired since); others get 401.
func (s *supervisor) withToken(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, secret, _ := r.BasicAuth()
		if _, ok := s.cfg.Tokens.Check(r.Context(), user, secret); ok {
			h(w, r)
			return
		}
		if node, ok := s.nodeOf(r); ok {
			h(w, r.WithContext(context.WithValue(r.Context(), certNodeKey{}, node)))
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="wren"`)
		http.Error(w, "a valid join token is required", http.StatusUnauthorized)
	}
}

// user authenticates a request's client certificate like the apiserver does.
func (s *supervisor) user(r *http.Request) (name string, groups []string, ok bool) {
	if s.authn == nil || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", nil, false
	}
	resp, ok, err := s.authn.AuthenticateRequest(r)
	if err != nil || !ok {
		return "", nil, false
	}
	return resp.User.GetName(), resp.User.GetGroups(), true
}

// nodeOf returns the node whose kubelet client certificate made r.
func (s *supervisor) nodeOf(r *http.Request) (string, bool) {
	name, groups, ok := s.user(r)
	if !ok {
		return "", false
	}
	node := nodecert.NodeName(name, groups)
	return node, node != ""
}

func (s *supervisor) agentConfig(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.cfg.Agent)
}

// readyz answers "ok" once the API serves, to a node (certificate) or a
// token holder.
func (s *supervisor) readyz(w http.ResponseWriter, r *http.Request) {
	user, secret, _ := r.BasicAuth()
	if _, ok := s.cfg.Tokens.Check(r.Context(), user, secret); !ok {
		if _, ok := s.nodeOf(r); !ok {
			http.Error(w, "a valid join token or node certificate is required", http.StatusUnauthorized)
			return
		}
	}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok"))
}

// podRoutes lists every node's pod CIDRs from the Node objects (assigned by
// the controller manager, not claimed by agents).
func (s *supervisor) podRoutes(ctx context.Context) (map[string][]netip.Prefix, error) {
	cs, err := s.cfg.Client()
	if err != nil {
		return nil, err
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string][]netip.Prefix{}
	for i := range nodes.Items {
		if cidrs := tunnel.NodePodCIDRs(&nodes.Items[i]); len(cidrs) > 0 {
			out[nodes.Items[i].Name] = cidrs
		}
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// staticFiles serves the regular files under dir at /static/; directories
// are not listed.
func staticFiles(dir string) http.Handler {
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+r.URL.Path)))
		fi, err := os.Stat(name)
		if err != nil || !fi.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, name)
	}))
}
