// SPDX-License-Identifier: Apache-2.0

package token

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// Checker verifies the credentials a joining node presents (HTTP basic auth:
// the token's user and secret) against the server's token files.
type Checker struct {
	// ServerFile is <data-dir>/server/token: it lets servers and agents join.
	ServerFile string
	// AgentFile is <data-dir>/server/agent-token: it lets agents join only.
	// Without it, agents use the server token.
	AgentFile string
	// Bootstrap finds bootstrap tokens (<id>.<secret>, `wren token create`);
	// nil accepts none. They let agents join only.
	Bootstrap BootstrapLookup
}

// bootstrapTimeout bounds the lookup of a bootstrap token's Secret.
const bootstrapTimeout = 5 * time.Second

// Check returns the role the credentials carry (UserServer or UserNode).
func (c Checker) Check(ctx context.Context, user, secret string) (role string, ok bool) {
	if secret == "" {
		return "", false
	}
	if IsBootstrap(secret) {
		if c.Bootstrap == nil {
			return "", false
		}
		ctx, cancel := context.WithTimeout(ctx, bootstrapTimeout)
		defer cancel()
		id, _, _ := strings.Cut(secret, ".")
		s, err := c.Bootstrap(ctx, id)
		if err != nil || !verifyBootstrap(s, secret, time.Now()) {
			return "", false
		}
		return UserNode, true
	}
	if t, err := readToken(c.ServerFile); err == nil && SameSecret(t.Secret, secret) {
		if user == UserServer {
			return UserServer, true
		}
		return UserNode, true
	}
	if t, err := readToken(c.AgentFile); err == nil && SameSecret(t.Secret, secret) && user != UserServer {
		return UserNode, true
	}
	return "", false
}

func readToken(path string) (Token, error) {
	if path == "" {
		return Token{}, os.ErrNotExist
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Token{}, err
	}
	return Parse(string(b))
}

// EnsureAgent writes the agent token file from given (--agent-token), as a
// full token pinning the CA with user "node". With given empty an existing
// file is kept and none is created.
func EnsureAgent(path, caFile, given string) error {
	if given == "" {
		if _, err := os.Stat(path); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		} else {
			return err
		}
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	t, err := Parse(given)
	if err != nil {
		return fmt.Errorf("--agent-token: %w", err)
	}
	if err := t.CheckCA(ca); err != nil {
		return fmt.Errorf("--agent-token: its CA hash does not match this server's CA %s", caFile)
	}
	full := Token{CAHash: CAHash(ca), User: UserNode, Secret: t.Secret}
	if old, err := readToken(path); err == nil && old == full {
		return nil
	}
	return atomicfile.Write(path, []byte(full.String()+"\n"), 0o600)
}
