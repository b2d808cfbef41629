// SPDX-License-Identifier: Apache-2.0

package secretsencrypt

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	storagevalue "k8s.io/apiserver/pkg/storage/value"
)

// transformer loads keys the way the apiserver does.
func transformer(t *testing.T, k Keys) storagevalue.Transformer {
	t.Helper()
	b, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "encryption-config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg, err := encryptionconfig.LoadEncryptionConfig(ctx, path, true, "test")
	if err != nil {
		t.Fatalf("the apiserver refuses the configuration: %v\n%s", err, b)
	}
	if got, want := cfg.EncryptionFileContentHash, hashOf(b); got != want {
		t.Errorf("apiserver hash %s, wren's %s: wren could not tell when a file is loaded", got, want)
	}
	return cfg.Transformers[schema.GroupResource{Resource: "secrets"}]
}

var dataCtx = storagevalue.DefaultContext("/registry/secrets/default/s")

func write(t *testing.T, tr storagevalue.Transformer, plain string) []byte {
	t.Helper()
	out, err := tr.TransformToStorage(context.Background(), []byte(plain), dataCtx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t *testing.T, tr storagevalue.Transformer, stored []byte) (string, bool) {
	t.Helper()
	out, stale, err := tr.TransformFromStorage(context.Background(), stored, dataCtx)
	if err != nil {
		t.Fatalf("unreadable: %v", err)
	}
	return string(out), stale
}

// TestRotationKeepsEveryValueReadable walks the stages with the apiserver's
// own loader: a value written at each step stays readable at the next, and
// the reads the re-encryption must rewrite are the ones reported stale.
func TestRotationKeepsEveryValueReadable(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, provider := range Providers {
		t.Run(provider, func(t *testing.T) {
			first, err := NewKey(provider, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			if first.Name != provider+"key" {
				t.Errorf("first key is named %q", first.Name)
			}
			plainTr := transformer(t, Keys{Enabled: false, Keys: []Key{first}})
			plain := write(t, plainTr, "plain")
			if string(plain) != "plain" {
				t.Fatalf("disabled encryption wrote %q", plain)
			}

			on := Keys{Enabled: true, Keys: []Key{first}}
			onTr := transformer(t, on)
			enc := write(t, onTr, "secret-1")
			if bytes.Contains(enc, []byte("secret-1")) || !bytes.HasPrefix(enc, []byte("k8s:enc:"+provider+":v1:"+first.Name+":")) {
				t.Fatalf("enabled encryption wrote %q", enc)
			}
			if v, stale := read(t, onTr, plain); v != "plain" || !stale {
				t.Errorf("plain value after enable: %q stale=%v, want readable and stale", v, stale)
			}

			// prepare: the new key reads only.
			second, err := NewKey(provider, on.Keys, now)
			if err != nil {
				t.Fatal(err)
			}
			if second.Name == first.Name || strings.Contains(second.Name, ":") {
				t.Fatalf("second key named %q", second.Name)
			}
			prepared := Keys{Enabled: true, Keys: []Key{first, second}}
			prepTr := transformer(t, prepared)
			if got := write(t, prepTr, "x"); !bytes.Contains(got, []byte(":"+first.Name+":")) {
				t.Errorf("prepared config writes with %q, want the old key", got)
			}
			// rotate: the new key writes; old values read stale.
			rotated := Keys{Enabled: true, Keys: []Key{second, first}}
			rotTr := transformer(t, rotated)
			enc2 := write(t, rotTr, "secret-2")
			if !bytes.Contains(enc2, []byte(":"+second.Name+":")) {
				t.Errorf("rotated config writes %q", enc2)
			}
			if v, stale := read(t, rotTr, enc); v != "secret-1" || !stale {
				t.Errorf("old value after rotate: %q stale=%v", v, stale)
			}
			if v, stale := read(t, rotTr, enc2); v != "secret-2" || stale {
				t.Errorf("new value after rotate: %q stale=%v", v, stale)
			}
			// After re-encryption only the active key is left.
			finalTr := transformer(t, Keys{Enabled: true, Keys: []Key{second}})
			if v, _ := read(t, finalTr, enc2); v != "secret-2" {
				t.Errorf("re-encrypted value: %q", v)
			}
			// disable: writes plain again, encrypted values read stale.
			offTr := transformer(t, Keys{Enabled: false, Keys: []Key{second}})
			if got := write(t, offTr, "p"); string(got) != "p" {
				t.Errorf("disabled writes %q", got)
			}
			if v, stale := read(t, offTr, enc2); v != "secret-2" || !stale {
				t.Errorf("encrypted value after disable: %q stale=%v", v, stale)
			}
		})
	}
}

func TestParseKeysRoundTrip(t *testing.T) {
	a, _ := NewKey(ProviderAESCBC, nil, time.Now())
	b, _ := NewKey(ProviderSecretbox, []Key{a}, time.Now())
	for _, want := range []Keys{{Enabled: true, Keys: []Key{b, a}}, {Enabled: false, Keys: []Key{a}}, {Enabled: false}} {
		data, err := want.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseKeys(data)
		if err != nil {
			t.Fatal(err)
		}
		if got.Enabled != want.Enabled || len(got.Keys) != len(want.Keys) {
			t.Fatalf("round trip: got %+v want %+v", got, want)
		}
		for i := range want.Keys {
			if got.Keys[i] != want.Keys[i] {
				t.Errorf("key %d: got %+v want %+v", i, got.Keys[i], want.Keys[i])
			}
		}
	}
	if _, err := ParseKeys([]byte(`{"resources":[{"resources":["secrets"],"providers":[{"kms":{"name":"x"}}]}]}`)); err == nil {
		t.Error("a KMS provider was accepted")
	}
	if _, err := NewKey("aesgcm", nil, time.Now()); err == nil || !strings.Contains(err.Error(), "--secrets-encryption-provider") {
		t.Errorf("bad provider: %v", err)
	}
}
