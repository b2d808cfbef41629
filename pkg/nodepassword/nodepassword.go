// SPDX-License-Identifier: Apache-2.0

// Package nodepassword keeps node names owned by the machine that first
// registered them: each node holds a random password, the server keeps a
// salted hash of it in a Secret, and a join under a taken name with another
// password is refused. Deleting the Node frees the name (Cleaner).
package nodepassword

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// Namespace holds the password Secrets.
const Namespace = "kube-system"

// SecretName is the Secret holding node's password hash.
func SecretName(node string) string { return node + ".node-password.wren" }

// ErrTaken means the node name belongs to another machine.
var ErrTaken = errors.New("node name is taken")

// Verify checks password against node's stored hash, storing it when the
// name is new. It returns an error wrapping ErrTaken on a mismatch.
func Verify(ctx context.Context, cs kubernetes.Interface, node, password string) error {
	secrets := cs.CoreV1().Secrets(Namespace)
	s, err := secrets.Get(ctx, SecretName(node), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return err
		}
		_, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: SecretName(node), Namespace: Namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "wren"}},
			Type: "wren.io/node-password",
			Data: map[string][]byte{"hash": []byte(hash(salt, password))},
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) { // a concurrent join won the race
			return Verify(ctx, cs, node, password)
		}
		return err
	}
	if err != nil {
		return err
	}
	stored := string(s.Data["hash"])
	saltHex, _, _ := strings.Cut(stored, "$")
	salt, err := hex.DecodeString(saltHex)
	if err != nil || subtle.ConstantTimeCompare([]byte(stored), []byte(hash(salt, password))) != 1 {
		return fmt.Errorf("node %q is already registered by another machine (its node password differs): "+
			"give this machine another --node-name (or --with-node-id), or free the name with `wren kubectl delete node %s`: %w",
			node, node, ErrTaken)
	}
	return nil
}

func hash(salt []byte, password string) string {
	sum := sha256.Sum256(append(append([]byte{}, salt...), password...))
	return hex.EncodeToString(salt) + "$" + hex.EncodeToString(sum[:])
}

// Ensure returns the node's password kept at path, creating a random one on
// first use.
func Ensure(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if p := strings.TrimSpace(string(b)); p != "" {
			return p, nil
		}
		return "", fmt.Errorf("node password file %s is empty: delete it to make a new one (the node name must then be freed on the server)", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	p := hex.EncodeToString(buf)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return p, atomicfile.Write(path, []byte(p+"\n"), 0o600)
}
