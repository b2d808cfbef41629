// SPDX-License-Identifier: Apache-2.0

package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// ServerFile is the component that owns the server token file
// (<data-dir>/server/token): it creates it on first start and, on every start,
// checks a user-given token against it and against the CA.
type ServerFile struct {
	path   string
	caFile string
	given  string
	// agentPath and agentGiven are the agent token file and --agent-token.
	agentPath, agentGiven string
	log                   *slog.Logger
}

var _ component.Component = (*ServerFile)(nil)

// NewServerFile returns the token component; given is --token (may be
// empty), agentGiven --agent-token (may be empty), written to agentPath.
func NewServerFile(path, caFile, given, agentPath, agentGiven string, log *slog.Logger) *ServerFile {
	return &ServerFile{path: path, caFile: caFile, given: given, agentPath: agentPath, agentGiven: agentGiven, log: log}
}

// Name implements component.Component.
func (s *ServerFile) Name() string { return "token" }

// Start writes or checks the token file.
func (s *ServerFile) Start(context.Context) error {
	if _, err := EnsureServer(s.path, s.caFile, s.given); errors.Is(err, ErrRotatedAway) {
		s.log.Warn(err.Error(), "file", s.path)
	} else if err != nil {
		return err
	}
	return EnsureAgent(s.agentPath, s.caFile, s.agentGiven)
}

// Ready implements component.Component.
func (s *ServerFile) Ready(context.Context) error { return nil }

// Stop implements component.Component.
func (s *ServerFile) Stop(context.Context) error { return nil }

// ErrRotatedAway comes with the stored token when the given one was
// replaced by `wren token rotate`: the server goes on with the stored one.
var ErrRotatedAway = errors.New("--token was rotated away by `wren token rotate`: using the current token; update the server's configuration")

// EnsureServer returns the server token kept at path, creating it from given
// (or a random secret) on first use. A given token must match the stored one,
// and a full given token must pin the CA in caFile.
func EnsureServer(path, caFile, given string) (Token, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return Token{}, err
	}
	var want Token
	if given != "" {
		if want, err = Parse(given); err != nil {
			return Token{}, fmt.Errorf("token: %w", err)
		}
		if err := want.CheckCA(ca); err != nil {
			return Token{}, fmt.Errorf("token: its CA hash does not match this server's CA %s (a full token only works with the cluster it came from; give the secret alone for a new cluster)", caFile)
		}
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		stored, err := Parse(string(b))
		if err != nil {
			return Token{}, fmt.Errorf("token file %s: %w", path, err)
		}
		if given != "" && !SameSecret(stored.Secret, want.Secret) {
			if wasRotatedAway(path, want.Secret) {
				return stored, ErrRotatedAway
			}
			return Token{}, fmt.Errorf("token: does not match the token this server was created with (%s)", path)
		}
		if err := stored.CheckCA(ca); err != nil {
			return Token{}, fmt.Errorf("token file %s: its CA hash does not match %s", path, caFile)
		}
		return stored, repin(path, &stored, ca)
	case !errors.Is(err, os.ErrNotExist):
		return Token{}, err
	}
	secret := want.Secret
	if secret == "" {
		if secret, err = NewSecret(); err != nil {
			return Token{}, err
		}
	}
	tok := Token{CAHash: CAHash(ca), User: UserServer, Secret: secret}
	if err := atomicfile.Write(path, []byte(tok.String()+"\n"), 0o600); err != nil {
		return Token{}, err
	}
	return tok, nil
}

// repin rewrites the token file at path when its CA hash is not that of the
// bundle's current CA: after a CA rotation, the tokens the server hands out
// pin the new CA (those made before still work, see CheckCA).
func repin(path string, t *Token, ca []byte) error {
	if t.CAHash == "" || t.CAHash == CAHash(ca) {
		return nil
	}
	t.CAHash = CAHash(ca)
	return atomicfile.Write(path, []byte(t.String()+"\n"), 0o600)
}

// Repin updates the server and agent token files to pin the CA bundle in
// caFile (after `wren certificate rotate-ca`); missing files are skipped.
func Repin(caFile string, paths ...string) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	for _, p := range paths {
		t, err := readToken(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("token file %s: %w", p, err)
		}
		if err := t.CheckCA(ca); err != nil {
			return fmt.Errorf("token file %s: its CA hash does not match %s", p, caFile)
		}
		if err := repin(p, &t, ca); err != nil {
			return err
		}
	}
	return nil
}
