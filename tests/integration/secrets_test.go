//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the raw datastore rows
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wren-k8s/wren/tests/testutil"
)

// secretsEncrypt runs `wren secrets-encrypt args...` against s.
func secretsEncrypt(t *testing.T, s *testutil.Server, args ...string) testutil.Result {
	t.Helper()
	full := append([]string{"secrets-encrypt"}, args...)
	full = append(full, "--data-dir", s.DataDir, "--server", fmt.Sprintf("https://127.0.0.1:%d", s.Port))
	return testutil.RunWren(t, 3*time.Minute, nil, full...)
}

func mustSecretsEncrypt(t *testing.T, s *testutil.Server, args ...string) string {
	t.Helper()
	res := secretsEncrypt(t, s, args...)
	require.Zero(t, res.ExitCode, "secrets-encrypt %v: %s%s", args, res.Stdout, res.Stderr)
	return res.Stdout
}

// rawSecret is the value column of the newest datastore row of a Secret:
// what the apiserver stored, before any decryption.
func rawSecret(t *testing.T, s *testutil.Server, ns, name string) []byte {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(s.DataDir, "server", "db", "state.db")+"?mode=ro&_busy_timeout=10000")
	require.NoError(t, err)
	defer db.Close()
	var v []byte
	err = db.QueryRow(`SELECT value FROM kine WHERE name = ? ORDER BY id DESC LIMIT 1`, "/registry/secrets/"+ns+"/"+name).Scan(&v)
	require.NoError(t, err, "no row for Secret %s/%s", ns, name)
	return v
}

func createSecret(ctx context.Context, s *testutil.Server, name, value string) error {
	_, err := s.Client().CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		StringData: map[string]string{"v": value},
	}, metav1.CreateOptions{})
	return err
}

// TestSecretsEncryption turns encryption on for a server that had Secrets in
// plain text, checks the datastore rows, and rotates the keys while Secrets
// are being written: none lost, every one readable, all under the final key.
func TestSecretsEncryption(t *testing.T) {
	ctx := context.Background()
	s := testutil.StartServer(t)
	require.NoError(t, createSecret(ctx, s, "before", "plain-before-7f3a"))
	assert.Contains(t, string(rawSecret(t, s, "default", "before")), "plain-before-7f3a", "the raw row check is blind")
	assert.Contains(t, mustSecretsEncrypt(t, s, "status"), "Disabled, no configuration file")
	res := secretsEncrypt(t, s, "enable")
	assert.NotZero(t, res.ExitCode)
	assert.Contains(t, res.Stderr, "--secrets-encryption")
	res = secretsEncrypt(t, s, "status", "--token", "not-the-token")
	assert.NotZero(t, res.ExitCode)
	assert.Contains(t, res.Stderr, "rejected")

	s.Stop()
	s.Args = append(s.Args, "--secrets-encryption")
	s.Start()
	s.WaitReady(2 * time.Minute)
	out := mustSecretsEncrypt(t, s, "status")
	assert.Contains(t, out, "Encryption Status: Enabled")
	assert.Contains(t, out, "Current Rotation Stage: start")
	assert.Contains(t, out, "All hashes match")
	assert.Regexp(t, `\*\s+AES-CBC\s+aescbckey`, out)

	require.NoError(t, createSecret(ctx, s, "after", "plain-after-7f3a"))
	raw := rawSecret(t, s, "default", "after")
	assert.True(t, bytes.HasPrefix(raw, []byte("k8s:enc:aescbc:v1:aescbckey:")), "new Secret stored as %.40q", raw)
	assert.NotContains(t, string(raw), "plain-after")

	// Re-encryption moves the Secret written before to the key.
	out = mustSecretsEncrypt(t, s, "reencrypt")
	assert.Contains(t, out, "Current Rotation Stage: reencrypt_finished")
	raw = rawSecret(t, s, "default", "before")
	assert.True(t, bytes.HasPrefix(raw, []byte("k8s:enc:aescbc:v1:aescbckey:")), "old Secret stored as %.40q", raw)

	t.Run("rotation while Secrets are written", func(t *testing.T) {
		stop := make(chan struct{})
		var mu sync.Mutex
		var written []string
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("load-%d-%d", w, i)
					if err := createSecret(ctx, s, name, "plain-"+name); err == nil {
						mu.Lock()
						written = append(written, name)
						mu.Unlock()
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
		}
		mustSecretsEncrypt(t, s, "prepare")
		mustSecretsEncrypt(t, s, "rotate")
		mustSecretsEncrypt(t, s, "reencrypt")
		out := mustSecretsEncrypt(t, s, "rotate-keys")
		close(stop)
		wg.Wait()
		assert.Contains(t, out, "reencrypt_finished")
		st := mustSecretsEncrypt(t, s, "status")
		active := activeKey(t, st)
		assert.NotEqual(t, "aescbckey", active)
		assert.Equal(t, 1, strings.Count(st, "AES-CBC"), "old keys left after re-encryption:\n%s", st)

		require.NotEmpty(t, written)
		for _, name := range append(written, "before", "after") {
			sec, err := s.Client().CoreV1().Secrets("default").Get(ctx, name, metav1.GetOptions{})
			require.NoError(t, err, "Secret %s lost or unreadable", name)
			assert.Contains(t, string(sec.Data["v"]), "plain-", name)
			raw := rawSecret(t, s, "default", name)
			assert.True(t, bytes.HasPrefix(raw, []byte("k8s:enc:aescbc:v1:"+active+":")), "Secret %s stored as %.50q", name, raw)
		}
		t.Logf("%d Secrets written during the rotations", len(written))
	})

	t.Run("disable, restart without the flag", func(t *testing.T) {
		mustSecretsEncrypt(t, s, "disable")
		mustSecretsEncrypt(t, s, "reencrypt")
		assert.Contains(t, string(rawSecret(t, s, "default", "before")), "plain-before-7f3a")
		// Dropping the flag keeps the configuration: nothing becomes unreadable.
		s.Stop()
		s.Args = s.Args[:len(s.Args)-1]
		s.Start()
		s.WaitReady(2 * time.Minute)
		assert.Contains(t, mustSecretsEncrypt(t, s, "status"), "Encryption Status: Disabled")
		mustSecretsEncrypt(t, s, "enable")
		require.NoError(t, createSecret(ctx, s, "again", "plain-again"))
		assert.True(t, bytes.HasPrefix(rawSecret(t, s, "default", "again"), []byte("k8s:enc:aescbc:")))
		_, err := s.Client().CoreV1().Secrets("default").Get(ctx, "after", metav1.GetOptions{})
		assert.NoError(t, err)
	})
}

func activeKey(t *testing.T, status string) string {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "*" {
			return f[2]
		}
	}
	t.Fatalf("no active key in:\n%s", status)
	return ""
}
