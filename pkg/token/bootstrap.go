// SPDX-License-Identifier: Apache-2.0

package token

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	bootstrapsecrets "k8s.io/cluster-bootstrap/util/secrets"
)

// Bootstrap tokens are kubeadm's expiring tokens (<id>.<secret>, a Secret
// kube-system/bootstrap-token-<id>), usable as agent join tokens. The
// controller manager's tokencleaner deletes them once expired; the
// supervisor refuses expired ones before that.

// DefaultBootstrapGroup is the extra group wren's bootstrap tokens carry.
const DefaultBootstrapGroup = "system:bootstrappers:wren:default-node-token"

// IsBootstrap reports whether s has the bootstrap token form <id>.<secret>.
func IsBootstrap(s string) bool { return bootstraputil.IsValidBootstrapToken(s) }

// BootstrapSpec is what `wren token create` asks for.
type BootstrapSpec struct {
	// Token is <id>.<secret>; empty generates one.
	Token string
	// TTL is the token's lifetime; 0 never expires.
	TTL         time.Duration
	Description string
	Usages      []string
	Groups      []string
}

// BootstrapToken is a stored bootstrap token as `wren token list` shows it.
type BootstrapToken struct {
	ID          string
	Secret      string
	Expires     time.Time // zero: never
	Usages      []string
	Groups      []string
	Description string
}

// CreateBootstrap stores a bootstrap token and returns it as <id>.<secret>.
func CreateBootstrap(ctx context.Context, cs kubernetes.Interface, spec BootstrapSpec, now time.Time) (string, error) {
	tok := spec.Token
	if tok == "" {
		var err error
		if tok, err = bootstraputil.GenerateBootstrapToken(); err != nil {
			return "", err
		}
	}
	if !IsBootstrap(tok) {
		return "", fmt.Errorf("token %q is not of the form [a-z0-9]{6}.[a-z0-9]{16}", tok)
	}
	if spec.TTL < 0 {
		return "", errors.New("--ttl must not be negative")
	}
	if err := bootstraputil.ValidateUsages(spec.Usages); err != nil {
		return "", fmt.Errorf("--usages: %w", err)
	}
	for _, g := range spec.Groups {
		if err := bootstraputil.ValidateBootstrapGroupName(g); err != nil {
			return "", fmt.Errorf("--groups: %w", err)
		}
	}
	id, secret, _ := strings.Cut(tok, ".")
	data := map[string]string{
		bootstrapapi.BootstrapTokenIDKey:     id,
		bootstrapapi.BootstrapTokenSecretKey: secret,
	}
	if spec.Description != "" {
		data[bootstrapapi.BootstrapTokenDescriptionKey] = spec.Description
	}
	if spec.TTL > 0 {
		data[bootstrapapi.BootstrapTokenExpirationKey] = now.Add(spec.TTL).UTC().Format(time.RFC3339)
	}
	for _, u := range spec.Usages {
		data[bootstrapapi.BootstrapTokenUsagePrefix+u] = "true"
	}
	if len(spec.Groups) > 0 {
		data[bootstrapapi.BootstrapTokenExtraGroupsKey] = strings.Join(spec.Groups, ",")
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstraputil.BootstrapTokenSecretName(id), Namespace: metav1.NamespaceSystem},
		Type:       bootstrapapi.SecretTypeBootstrapToken,
		StringData: data,
	}
	if _, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("a bootstrap token with id %q already exists", id)
		}
		return "", err
	}
	return tok, nil
}

// ListBootstrap returns the stored bootstrap tokens, sorted by id.
func ListBootstrap(ctx context.Context, cs kubernetes.Interface) ([]BootstrapToken, error) {
	list, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{
		FieldSelector: "type=" + string(bootstrapapi.SecretTypeBootstrapToken),
	})
	if err != nil {
		return nil, err
	}
	var out []BootstrapToken
	for i := range list.Items {
		s := &list.Items[i]
		id, ok := bootstrapsecrets.ParseName(s.Name)
		if !ok || bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenIDKey) != id {
			continue
		}
		t := BootstrapToken{ID: id, Secret: bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenSecretKey),
			Description: bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenDescriptionKey)}
		if exp := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenExpirationKey); exp != "" {
			t.Expires, _ = time.Parse(time.RFC3339, exp)
		}
		for k, v := range s.Data {
			if u, ok := strings.CutPrefix(k, bootstrapapi.BootstrapTokenUsagePrefix); ok && string(v) == "true" {
				t.Usages = append(t.Usages, u)
			}
		}
		sort.Strings(t.Usages)
		if g := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenExtraGroupsKey); g != "" {
			t.Groups = strings.Split(g, ",")
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeleteBootstrap deletes the bootstrap token with the given id (or whole
// <id>.<secret> token).
func DeleteBootstrap(ctx context.Context, cs kubernetes.Interface, idOrToken string) error {
	id, _, _ := strings.Cut(idOrToken, ".")
	if !bootstraputil.IsValidBootstrapTokenID(id) {
		return fmt.Errorf("%q is not a bootstrap token id ([a-z0-9]{6})", idOrToken)
	}
	err := cs.CoreV1().Secrets(metav1.NamespaceSystem).Delete(ctx, bootstraputil.BootstrapTokenSecretName(id), metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("no bootstrap token with id %q", id)
	}
	return err
}

// BootstrapLookup fetches the Secret of a bootstrap token id.
type BootstrapLookup func(ctx context.Context, id string) (*corev1.Secret, error)

// SecretLookup is a BootstrapLookup reading kube-system through cs.
func SecretLookup(cs func() (kubernetes.Interface, error)) BootstrapLookup {
	return func(ctx context.Context, id string) (*corev1.Secret, error) {
		c, err := cs()
		if err != nil {
			return nil, err
		}
		return c.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, bootstraputil.BootstrapTokenSecretName(id), metav1.GetOptions{})
	}
}

// verifyBootstrap checks tok (<id>.<secret>) against its Secret: the secret
// matches, the token is not expired and it may authenticate.
func verifyBootstrap(s *corev1.Secret, tok string, now time.Time) bool {
	id, secret, _ := strings.Cut(tok, ".")
	if s.Type != bootstrapapi.SecretTypeBootstrapToken || s.DeletionTimestamp != nil {
		return false
	}
	if bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenIDKey) != id ||
		subtle.ConstantTimeCompare([]byte(bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenSecretKey)), []byte(secret)) != 1 {
		return false
	}
	if bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenUsageAuthentication) != "true" {
		return false
	}
	return !bootstrapsecrets.HasExpired(s, now)
}
