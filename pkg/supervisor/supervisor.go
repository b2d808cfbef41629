// SPDX-License-Identifier: Apache-2.0

// Package supervisor serves wren's own endpoints on the API port, in front of
// kube-apiserver's handler chain: /cacerts and /ping for joining nodes now,
// node bootstrap and the agent tunnel later. Every other request goes to the
// apiserver untouched.
package supervisor

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"k8s.io/apiserver/pkg/authentication/authenticator"
)

// Config locates what the supervisor serves.
type Config struct {
	// ServerCAFile is the CA bundle served at /cacerts; join tokens pin its hash.
	ServerCAFile string
	// StaticDir's files are served, without authentication, under /static/
	// (Helm charts for HelmCharts to install offline).
	StaticDir string
}

// Handler returns a function that puts the supervisor's routes in front of
// the apiserver's handler. authn authenticates like the apiserver does; routes
// that need an identity use it.
func Handler(cfg Config) func(apiserver http.Handler, authn authenticator.Request) http.Handler {
	return func(apiserver http.Handler, _ authenticator.Request) http.Handler {
		routes := map[string]http.HandlerFunc{
			"/cacerts": func(w http.ResponseWriter, _ *http.Request) {
				ca, err := os.ReadFile(cfg.ServerCAFile)
				if err != nil {
					http.Error(w, "CA bundle unavailable", http.StatusInternalServerError)
					return
				}
				w.Header().Set("Content-Type", "application/x-pem-file")
				_, _ = w.Write(ca)
			},
			"/ping": func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = w.Write([]byte("pong"))
			},
		}
		// A plain lookup rather than http.ServeMux: the mux would clean and
		// redirect paths that belong to the apiserver.
		static := staticFiles(cfg.StaticDir)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				if h, ok := routes[r.URL.Path]; ok {
					h(w, r)
					return
				}
				if cfg.StaticDir != "" && strings.HasPrefix(r.URL.Path, "/static/") {
					static.ServeHTTP(w, r)
					return
				}
			}
			apiserver.ServeHTTP(w, r)
		})
	}
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
