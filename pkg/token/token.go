// SPDX-License-Identifier: Apache-2.0

// Package token formats, parses and checks wren join tokens.
//
// A full token pins the cluster CA: W10<sha256 of the CA, hex>::<user>:<secret>,
// or W10<hash>::<id>.<secret> for a bootstrap token. The hash is that of the
// CA bundle's first certificate (PEM), which is the whole bundle of a
// cluster that never rotated its CA, as in k3s. A joining node downloads
// the CA bundle without verification and trusts it only if the token pins
// it: its hash is the bundle's, or that of one of its certificates to which
// the server's own certificate chains (a token made before a CA rotation).
// A short token is the secret alone and pins nothing.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
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
	// CAHash is the hex sha256 of the CA (see CAHash); empty for a short token.
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

// CAHash returns the hex sha256 of a CA bundle's first certificate (PEM)
// as it appears in tokens; of the whole bundle if it holds none.
func CAHash(caBundle []byte) string {
	if block, _ := pem.Decode(caBundle); block != nil {
		return hashHex(pem.EncodeToMemory(block))
	}
	return hashHex(caBundle)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// PinsBundle reports whether a full token holds the hash of caBundle as a
// whole, or of its first certificate, the CA that signs now.
func (t Token) PinsBundle(caBundle []byte) bool {
	return t.CAHash != "" && (t.is(hashHex(caBundle)) || t.is(CAHash(caBundle)))
}

// CheckCA verifies that a full token pins caBundle (PinsBundle), or one of
// its certificates: the CA of a token made before a CA rotation, which the
// rotated bundle keeps. Short tokens pass. Only for a bundle from a trusted
// place; one from the network must also chain the server's certificate to
// PinnedCert (join.Dial does).
func (t Token) CheckCA(caBundle []byte) error {
	if t.CAHash == "" || t.PinsBundle(caBundle) || t.PinnedCert(caBundle) != nil {
		return nil
	}
	return ErrCAMismatch
}

// PinnedCert returns the certificate of caBundle whose PEM hash the token
// holds, or nil.
func (t Token) PinnedCert(caBundle []byte) *x509.Certificate {
	for rest := caBundle; t.CAHash != ""; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil
		}
		if block.Type != "CERTIFICATE" || !t.is(hashHex(pem.EncodeToMemory(block))) {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			return c
		}
	}
	return nil
}

func (t Token) is(hash string) bool { return SameSecret(t.CAHash, hash) }

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
