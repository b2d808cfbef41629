// SPDX-License-Identifier: Apache-2.0

package supervisor

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/wren-k8s/wren/pkg/token"
)

// PathToken is where `wren token rotate` replaces the server token.
const PathToken = "/v1-wren/token"

// TokenRotateRequest is the body of POST PathToken; an empty NewToken asks
// for a random secret.
type TokenRotateRequest struct {
	NewToken string `json:"newToken,omitempty"`
}

// TokenRotateResponse carries the new full token.
type TokenRotateResponse struct {
	Token string `json:"token"`
}

func (s *supervisor) rotateToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRotateRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		http.Error(w, "want {\"newToken\": ...}: "+err.Error(), http.StatusBadRequest)
		return
	}
	tok, err := token.Rotate(s.cfg.Tokens.ServerFile, s.cfg.ServerCAFile, req.NewToken)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.cfg.Log.Info("server token rotated: the old one is refused from now on")
	writeJSON(w, TokenRotateResponse{Token: tok.String()})
}
