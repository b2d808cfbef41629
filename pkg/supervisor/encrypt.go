// SPDX-License-Identifier: Apache-2.0

package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/wren-k8s/wren/pkg/secretsencrypt"
	"github.com/wren-k8s/wren/pkg/token"
)

// The routes of `wren secrets-encrypt`, for holders of the server token.
const (
	PathEncryptStatus = "/v1-wren/encrypt/status"
	PathEncryptConfig = "/v1-wren/encrypt/config"
)

// Encryption is the server's secrets encryption controller.
type Encryption interface {
	Status() (secretsencrypt.Status, error)
	Do(ctx context.Context, command string) error
}

// EncryptRequest is the body of POST PathEncryptConfig.
type EncryptRequest struct {
	Command string `json:"command"`
}

// withServerToken lets through requests whose basic-auth credentials are the
// server token (not an agent or bootstrap token, not a node certificate).
func (s *supervisor) withServerToken(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, secret, _ := r.BasicAuth()
		if role, ok := s.cfg.Tokens.Check(r.Context(), user, secret); !ok || role != token.UserServer {
			w.Header().Set("WWW-Authenticate", `Basic realm="wren"`)
			http.Error(w, "the server token is required", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

func (s *supervisor) encryptStatus(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Encryption == nil {
		http.Error(w, secretsencrypt.ErrNotConfigured.Error(), http.StatusConflict)
		return
	}
	st, err := s.cfg.Encryption.Status()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, st)
}

func (s *supervisor) encryptCommand(w http.ResponseWriter, r *http.Request) {
	var req EncryptRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		http.Error(w, "want {\"command\": ...}: "+err.Error(), http.StatusBadRequest)
		return
	}
	if s.cfg.Encryption == nil {
		http.Error(w, secretsencrypt.ErrNotConfigured.Error(), http.StatusConflict)
		return
	}
	if err := s.cfg.Encryption.Do(r.Context(), req.Command); err != nil {
		code := http.StatusConflict
		if errors.Is(err, context.Canceled) {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, err.Error(), code)
		return
	}
	st, err := s.cfg.Encryption.Status()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, st)
}
