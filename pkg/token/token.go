// SPDX-License-Identifier: Apache-2.0

// Package token formats, parses and checks wren join tokens.
//
// A full token pins the cluster CA: W10<sha256 of the CA bundle, hex>::<user>:<secret>,
// or W10<hash>::<id>.<secret> for a bootstrap token.
// A joining node downloads the CA bundle without verification and trusts it
// only if its hash matches. A short token is the secret alone and pins nothing.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix marks a full, CA-pinned token (version 1 of the format).
const Prefix = "W10"

// Users a token can carry.
const (
	UserServer = "server"
	UserNode   = "node"
)

// Token is a parsed join token.
type Token struct {
	// CAHash is the hex sha256 of the CA bundle; empty for a short token.
	CAHash string
	User   string
	Secret string
}

// ErrCAMismatch means a full token's CA hash does not match the CA it is checked against.
var ErrCAMismatch = errors.New("CA hash does not match")

// Parse reads a full (W10...) or short (secret only) token.
func Parse(s string) (Token, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Token{}, errors.New("empty token")
	}
	if !strings.HasPrefix(s, Prefix) || !strings.Contains(s, "::") {
		if strings.Contains(s, "::") {
			return Token{}, fmt.Errorf("token format not recognized: a full token starts with %s", Prefix)
		}
		if IsBootstrap(s) {
			return Token{User: UserNode, Secret: s}, nil
		}
		return Token{User: UserServer, Secret: s}, nil
	}
	hash, cred, _ := strings.Cut(strings.TrimPrefix(s, Prefix), "::")
	if len(hash) != sha256.Size*2 {
		return Token{}, fmt.Errorf("token CA hash has %d characters, want %d", len(hash), sha256.Size*2)
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return Token{}, errors.New("token CA hash is not hex")
	}
	if IsBootstrap(cred) {
		return Token{CAHash: strings.ToLower(hash), User: UserNode, Secret: cred}, nil
	}
	user, secret, ok := strings.Cut(cred, ":")
	if !ok || user == "" || secret == "" {
		return Token{}, errors.New("token must end in ::<user>:<secret> or ::<bootstrap token id>.<secret>")
	}
	return Token{CAHash: strings.ToLower(hash), User: user, Secret: secret}, nil
}

// String formats the token: full when it has a CA hash, else the secret alone.
func (t Token) String() string {
	if t.CAHash == "" {
		return t.Secret
	}
	if IsBootstrap(t.Secret) {
		return Prefix + t.CAHash + "::" + t.Secret
	}
	return Prefix + t.CAHash + "::" + t.User + ":" + t.Secret
}

// CAHash returns the hex sha256 of a CA bundle as it appears in tokens.
func CAHash(caBundle []byte) string {
	sum := sha256.Sum256(caBundle)
	return hex.EncodeToString(sum[:])
}

// CheckCA verifies that a full token pins caBundle; short tokens pass.
func (t Token) CheckCA(caBundle []byte) error {
	if t.CAHash == "" {
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(t.CAHash), []byte(CAHash(caBundle))) != 1 {
		return ErrCAMismatch
	}
	return nil
}

// SameSecret compares secrets in constant time.
func SameSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// NewSecret returns a random 32-character hex secret.
func NewSecret() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
