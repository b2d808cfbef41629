// SPDX-License-Identifier: Apache-2.0

// Package secretsencrypt is Secrets encryption at rest: the apiserver's
// encryption configuration file, its keys, and the rotation stages of k3s's
// `secrets-encrypt` verbs (prepare, rotate, reencrypt, enable, disable,
// rotate-keys), run by the server and reached through the supervisor.
package secretsencrypt

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
)

// The key types --secrets-encryption-provider accepts.
const (
	ProviderAESCBC    = "aescbc"
	ProviderSecretbox = "secretbox"
)

// Providers lists them.
var Providers = []string{ProviderAESCBC, ProviderSecretbox}

// Key is one encryption key.
type Key struct {
	// Provider is aescbc or secretbox.
	Provider string `json:"provider"`
	// Name is how the key is named in the stored values' prefix
	// (k8s:enc:<provider>:v1:<name>:).
	Name   string `json:"name"`
	Secret string `json:"-"`
}

// Keys is the encryption configuration as wren manages it.
type Keys struct {
	// Enabled means the first key encrypts new writes; otherwise they are
	// written in plain text (identity first) and the keys only decrypt.
	Enabled bool
	// Keys in order; every one can decrypt.
	Keys []Key
}

// Active is the key new writes use, if Enabled.
func (k Keys) Active() (Key, bool) {
	if !k.Enabled || len(k.Keys) == 0 {
		return Key{}, false
	}
	return k.Keys[0], true
}

// NewKey returns a random 32-byte key of the provider's type, named after it
// and the time (the first key of a cluster is just "<provider>key", as in k3s).
func NewKey(provider string, existing []Key, now time.Time) (Key, error) {
	if provider != ProviderAESCBC && provider != ProviderSecretbox {
		return Key{}, fmt.Errorf("--secrets-encryption-provider %q: want one of %s", provider, strings.Join(Providers, ", "))
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Key{}, err
	}
	base := provider + "key"
	name := base
	if len(existing) > 0 {
		name = base + "-" + now.UTC().Format("20060102T150405Z")
	}
	for i := 2; taken(existing, name); i++ {
		name = fmt.Sprintf("%s-%s-%d", base, now.UTC().Format("20060102T150405Z"), i)
	}
	return Key{Provider: provider, Name: name, Secret: base64.StdEncoding.EncodeToString(b)}, nil
}

func taken(keys []Key, name string) bool {
	for _, k := range keys {
		if k.Name == name {
			return true
		}
	}
	return false
}

// Marshal renders the apiserver's EncryptionConfiguration for Secrets.
func (k Keys) Marshal() ([]byte, error) {
	var providers []apiserverv1.ProviderConfiguration
	identity := apiserverv1.ProviderConfiguration{Identity: &apiserverv1.IdentityConfiguration{}}
	if !k.Enabled {
		providers = append(providers, identity)
	}
	for _, key := range k.Keys {
		keys := []apiserverv1.Key{{Name: key.Name, Secret: key.Secret}}
		switch key.Provider {
		case ProviderAESCBC:
			providers = append(providers, apiserverv1.ProviderConfiguration{AESCBC: &apiserverv1.AESConfiguration{Keys: keys}})
		case ProviderSecretbox:
			providers = append(providers, apiserverv1.ProviderConfiguration{Secretbox: &apiserverv1.SecretboxConfiguration{Keys: keys}})
		default:
			return nil, fmt.Errorf("key %s: unknown provider %q", key.Name, key.Provider)
		}
	}
	if k.Enabled {
		// Secrets written before encryption was on stay readable.
		providers = append(providers, identity)
	}
	cfg := apiserverv1.EncryptionConfiguration{
		TypeMeta:  metav1.TypeMeta{Kind: "EncryptionConfiguration", APIVersion: "apiserver.config.k8s.io/v1"},
		Resources: []apiserverv1.ResourceConfiguration{{Resources: []string{"secrets"}, Providers: providers}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseKeys reads a configuration written by Marshal.
func ParseKeys(data []byte) (Keys, error) {
	var cfg apiserverv1.EncryptionConfiguration
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Keys{}, err
	}
	if len(cfg.Resources) != 1 || len(cfg.Resources[0].Providers) == 0 {
		return Keys{}, errors.New("want one resources entry (secrets) with its providers")
	}
	var k Keys
	for i, p := range cfg.Resources[0].Providers {
		switch {
		case p.Identity != nil:
			continue
		case p.AESCBC != nil:
			for _, key := range p.AESCBC.Keys {
				k.Keys = append(k.Keys, Key{Provider: ProviderAESCBC, Name: key.Name, Secret: key.Secret})
			}
		case p.Secretbox != nil:
			for _, key := range p.Secretbox.Keys {
				k.Keys = append(k.Keys, Key{Provider: ProviderSecretbox, Name: key.Name, Secret: key.Secret})
			}
		default:
			return Keys{}, fmt.Errorf("provider %d: wren manages aescbc, secretbox and identity only", i+1)
		}
		if i == 0 {
			k.Enabled = true
		}
	}
	return k, nil
}
