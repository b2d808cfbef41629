// SPDX-License-Identifier: Apache-2.0

package token

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// PreviousFile is where the hashes of rotated-away server secrets are kept
// (never the secrets): a restart with the old --token still in the service's
// configuration starts with a warning instead of failing.
func PreviousFile(tokenPath string) string { return tokenPath + ".previous" }

// Rotate replaces the server token at path with one of secret newSecret (a
// random one when empty; a full token must pin the CA in caFile) and
// records the old secret's hash. The old token is refused from then on.
func Rotate(path, caFile, newSecret string) (Token, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return Token{}, err
	}
	old, err := readToken(path)
	if err != nil {
		return Token{}, fmt.Errorf("token file %s: %w", path, err)
	}
	secret := newSecret
	if secret == "" {
		if secret, err = NewSecret(); err != nil {
			return Token{}, err
		}
	} else {
		t, err := Parse(newSecret)
		if err != nil {
			return Token{}, fmt.Errorf("--new-token: %w", err)
		}
		if err := t.CheckCA(ca); err != nil {
			return Token{}, errors.New("--new-token: its CA hash does not match this server's CA")
		}
		if IsBootstrap(t.Secret) || strings.ContainsAny(t.Secret, ": \n") {
			return Token{}, errors.New("--new-token: want a secret without ':' or spaces, not a bootstrap token")
		}
		secret = t.Secret
	}
	if SameSecret(secret, old.Secret) {
		return Token{}, errors.New("--new-token: it is the current token")
	}
	prev, _ := os.ReadFile(PreviousFile(path))
	prev = append(prev, []byte(secretHash(old.Secret)+"\n")...)
	if err := atomicfile.Write(PreviousFile(path), prev, 0o600); err != nil {
		return Token{}, err
	}
	tok := Token{CAHash: CAHash(ca), User: UserServer, Secret: secret}
	if err := atomicfile.Write(path, []byte(tok.String()+"\n"), 0o600); err != nil {
		return Token{}, err
	}
	return tok, nil
}

// wasRotatedAway reports whether secret is a server secret replaced by Rotate.
func wasRotatedAway(tokenPath, secret string) bool {
	b, err := os.ReadFile(PreviousFile(tokenPath))
	if err != nil {
		return false
	}
	want := secretHash(secret)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if SameSecret(strings.TrimSpace(sc.Text()), want) {
			return true
		}
	}
	return false
}

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte("wren-token:" + secret))
	return hex.EncodeToString(sum[:])
}
