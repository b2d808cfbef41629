// SPDX-License-Identifier: Apache-2.0

package token

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	hash := strings.Repeat("ab", 32)
	tests := []struct {
		in      string
		want    Token
		wantErr string
	}{
		{in: "s3cret", want: Token{User: UserServer, Secret: "s3cret"}},
		{in: "  s3cret\n", want: Token{User: UserServer, Secret: "s3cret"}},
		{in: "W10" + hash + "::server:s3cret", want: Token{CAHash: hash, User: "server", Secret: "s3cret"}},
		{in: "W10" + strings.ToUpper(hash) + "::node:x", want: Token{CAHash: hash, User: "node", Secret: "x"}},
		{in: "abcdef.0123456789abcdef", want: Token{User: UserNode, Secret: "abcdef.0123456789abcdef"}},
		{in: "W10" + hash + "::abcdef.0123456789abcdef", want: Token{CAHash: hash, User: UserNode, Secret: "abcdef.0123456789abcdef"}},
		{in: "W10" + hash + "::abcdef.0123", wantErr: "::<user>:<secret> or ::<bootstrap token id>.<secret>"},
		{in: "", wantErr: "empty token"},
		{in: "W10abc::server:x", wantErr: "CA hash has 3 characters"},
		{in: "W10" + strings.Repeat("zz", 32) + "::server:x", wantErr: "not hex"},
		{in: "W10" + hash + "::server", wantErr: "::<user>:<secret>"},
		{in: "W10" + hash + "::server:", wantErr: "::<user>:<secret>"},
		{in: "K10" + hash + "::server:x", wantErr: "a full token starts with W10"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRoundTripAndCACheck(t *testing.T) {
	t.Parallel()
	ca := []byte("-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n")
	tok := Token{CAHash: CAHash(ca), User: UserServer, Secret: "x"}
	parsed, err := Parse(tok.String())
	require.NoError(t, err)
	assert.Equal(t, tok, parsed)
	require.NoError(t, parsed.CheckCA(ca))
	require.ErrorIs(t, parsed.CheckCA([]byte("another CA")), ErrCAMismatch)
	require.NoError(t, Token{Secret: "short"}.CheckCA([]byte("anything")), "short tokens pin nothing")
	assert.Equal(t, "short", Token{Secret: "short"}.String())
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, err := NewSecret()
	require.NoError(t, err)
	b, err := NewSecret()
	require.NoError(t, err)
	assert.Len(t, a, 32)
	assert.NotEqual(t, a, b)
}

func TestEnsureServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caFile := dir + "/ca.crt"
	require.NoError(t, os.WriteFile(caFile, []byte("CA ONE"), 0o644))
	path := dir + "/token"

	// A full token for another CA is refused on a new server, and nothing is written.
	foreign := Token{CAHash: CAHash([]byte("CA TWO")), User: UserServer, Secret: "x"}.String()
	_, err := EnsureServer(path, caFile, foreign)
	require.ErrorContains(t, err, "CA hash does not match")
	require.NoFileExists(t, path)

	tok, err := EnsureServer(path, caFile, "mysecret")
	require.NoError(t, err)
	assert.Equal(t, "mysecret", tok.Secret)
	assert.Equal(t, CAHash([]byte("CA ONE")), tok.CAHash)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, tok.String()+"\n", string(b))

	// Restart without --token reuses it; with the same secret or full token it passes.
	for _, given := range []string{"", "mysecret", tok.String()} {
		again, err := EnsureServer(path, caFile, given)
		require.NoError(t, err, given)
		assert.Equal(t, tok, again)
	}
	_, err = EnsureServer(path, caFile, "othersecret")
	require.ErrorContains(t, err, "does not match the token this server was created with")

	// A random secret when none is given.
	other := t.TempDir() + "/token"
	gen, err := EnsureServer(other, caFile, "")
	require.NoError(t, err)
	assert.Len(t, gen.Secret, 32)
}

func TestRotate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caFile := dir + "/ca.crt"
	require.NoError(t, os.WriteFile(caFile, []byte("CA ONE"), 0o644))
	path := dir + "/token"
	old, err := EnsureServer(path, caFile, "oldsecret")
	require.NoError(t, err)
	c := Checker{ServerFile: path}

	_, err = Rotate(path, caFile, "oldsecret")
	require.ErrorContains(t, err, "it is the current token")
	_, err = Rotate(path, caFile, Token{CAHash: CAHash([]byte("CA TWO")), User: UserServer, Secret: "x"}.String())
	require.ErrorContains(t, err, "CA hash does not match")
	_, err = Rotate(path, caFile, "abcdef.0123456789abcdef")
	require.ErrorContains(t, err, "not a bootstrap token")

	tok, err := Rotate(path, caFile, "newsecret")
	require.NoError(t, err)
	assert.Equal(t, Token{CAHash: old.CAHash, User: UserServer, Secret: "newsecret"}, tok)
	_, ok := c.Check(context.Background(), UserServer, "oldsecret")
	assert.False(t, ok, "the old token is still accepted")
	role, ok := c.Check(context.Background(), UserServer, "newsecret")
	assert.True(t, ok)
	assert.Equal(t, UserServer, role)
	prev, err := os.ReadFile(PreviousFile(path))
	require.NoError(t, err)
	assert.NotContains(t, string(prev), "oldsecret", "the old secret is kept in clear")

	// A restart with the old --token goes on with the new one, with a warning.
	got, err := EnsureServer(path, caFile, "oldsecret")
	require.ErrorIs(t, err, ErrRotatedAway)
	assert.Equal(t, tok, got)
	_, err = EnsureServer(path, caFile, "neversecret")
	require.ErrorContains(t, err, "does not match")

	gen, err := Rotate(path, caFile, "")
	require.NoError(t, err)
	assert.Len(t, gen.Secret, 32)
	_, err = EnsureServer(path, caFile, "newsecret")
	require.ErrorIs(t, err, ErrRotatedAway)
}

// After a CA rotation the bundle is new CA, cross-signed copy, old CA: a
// token made before pins the old CA, one made after the new; a token for
// another CA pins nothing of it.
func TestCAHashAcrossRotation(t *testing.T) {
	t.Parallel()
	oldCA := "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBATAKBggqhkjOPQQDAjAAMB4XDTI0MDEwMTAwMDAwMFoX\n-----END CERTIFICATE-----\n"
	// Not parseable certificates: CAHash and PinsBundle work on PEM alone.
	newCA := strings.Replace(oldCA, "MIIB", "MIIC", 1)
	bundle := []byte(newCA + newCA + oldCA)
	before := Token{CAHash: CAHash([]byte(oldCA)), User: UserNode, Secret: "s"}
	after := Token{CAHash: CAHash(bundle), User: UserNode, Secret: "s"}
	assert.Equal(t, CAHash([]byte(newCA)), after.CAHash, "a token pins the CA that signs now")
	assert.True(t, after.PinsBundle(bundle))
	assert.False(t, before.PinsBundle(bundle))
	assert.True(t, Token{CAHash: hashHex(bundle)}.PinsBundle(bundle), "k3s's whole-bundle hash")
	assert.Equal(t, CAHash([]byte(oldCA)), hashHex([]byte(oldCA)), "one CA: the same hash as k3s's")
	other := Token{CAHash: CAHash([]byte("x")), User: UserNode, Secret: "s"}
	assert.ErrorIs(t, other.CheckCA(bundle), ErrCAMismatch)
	assert.NoError(t, after.CheckCA(bundle))
}
