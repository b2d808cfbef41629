//go:build integration

// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wren-k8s/wren/tests/testutil"
)

// compactEvery10s makes the apiserver compact the datastore every 10 s
// instead of 5 minutes, for the compaction check.
var compactEvery10s = []string{"--kube-apiserver-arg", "etcd-compaction-interval=10s"}

func TestControlPlaneSQLite(t *testing.T) {
	controlPlaneSuite(t, append(compactEvery10s, "--enable-pprof")...)
}

func TestControlPlanePostgres(t *testing.T) {
	pg := testutil.StartPostgres(t)
	controlPlaneSuite(t, append(compactEvery10s, "--datastore-endpoint", pg.DSN)...)
}

const crdYAML = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: birds.wren.test
spec:
  group: wren.test
  names: {kind: Bird, plural: birds, singular: bird}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              song: {type: string}
`

const birdYAML = `apiVersion: wren.test/v1
kind: Bird
metadata: {name: robin, namespace: itest}
spec: {song: chirp}
`

// insecureClient skips server verification: for checking what the server
// refuses, and what a joining node does before it trusts the CA.
func insecureClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // see above
}

func controlPlaneSuite(t *testing.T, args ...string) {
	s := testutil.StartServer(t, args...)

	t.Run("readyz is fully green", func(t *testing.T) {
		out := s.MustKubectl("get", "--raw", "/readyz?verbose")
		assert.Contains(t, out, "readyz check passed")
		assert.NotContains(t, out, "[-]")
	})

	t.Run("objects of every kind are stored", func(t *testing.T) {
		s.MustKubectl("create", "namespace", "itest")
		s.MustKubectl("-n", "itest", "create", "configmap", "cm1", "--from-literal=k=v")
		s.MustKubectl("-n", "itest", "create", "secret", "generic", "sec1", "--from-literal=password=s3cret")
		out, err := s.KubectlStdin(crdYAML, "apply", "-f", "-")
		require.NoError(t, err, out)
		s.MustKubectl("wait", "--for=condition=Established", "crd/birds.wren.test", "--timeout=60s")
		testutil.Eventually(t, 60*time.Second, time.Second, "custom object created", func() error {
			out, err := s.KubectlStdin(birdYAML, "apply", "-f", "-")
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		assert.Equal(t, "chirp", s.MustKubectl("-n", "itest", "get", "bird", "robin", "-o", "jsonpath={.spec.song}"))
	})

	t.Run("old revisions are compacted as on etcd: a continue token expires on a quiet cluster", func(t *testing.T) {
		ctx := context.Background()
		cms := s.Client().CoreV1().ConfigMaps("itest")
		for _, name := range []string{"page1", "page2"} {
			_, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			require.NoError(t, err)
		}
		first, err := cms.List(ctx, metav1.ListOptions{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, first.Continue)
		// Two compactions (10 s apart) pass the token's revision; nothing else writes.
		testutil.Eventually(t, 90*time.Second, 2*time.Second, "the continue token to expire", func() error {
			_, err := cms.List(ctx, metav1.ListOptions{Limit: 1, Continue: first.Continue})
			if !apierrors.IsResourceExpired(err) {
				return fmt.Errorf("list with the first page's continue token: %v", err)
			}
			return nil
		})
	})

	t.Run("controller-manager makes a deployment's replicaset and pods", func(t *testing.T) {
		s.MustKubectl("-n", "itest", "create", "deployment", "web", "--image=registry.k8s.io/pause:3.10", "--replicas=2")
		testutil.Eventually(t, 90*time.Second, time.Second, "2 pending pods", func() error {
			out, err := s.Kubectl("-n", "itest", "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}")
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			if phases := strings.Fields(out); len(phases) != 2 || phases[0] != "Pending" {
				return fmt.Errorf("phases %q", out)
			}
			return nil
		})
		assert.Contains(t, s.MustKubectl("-n", "itest", "get", "replicasets", "-l", "app=web", "-o", "name"), "replicaset.apps/web-")
		// The default service account's token controller ran too.
		assert.Contains(t, s.MustKubectl("-n", "itest", "get", "serviceaccount", "default", "-o", "name"), "serviceaccount/default")
	})

	t.Run("scheduler and controller-manager report healthy", func(t *testing.T) {
		client := insecureClient()
		for name, port := range map[string]int{"scheduler": s.SchedulerPort, "controller-manager": s.ControllerManagerPort} {
			resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
			require.NoError(t, err, name)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, "ok", string(body), name)
		}
		assert.Regexp(t, `etcd-0\s+Healthy`, s.MustKubectl("get", "componentstatuses"))
	})

	t.Run("anonymous requests get 401", func(t *testing.T) {
		client := insecureClient()
		for _, path := range []string{"/api/v1/namespaces", "/version", "/healthz"} {
			resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d%s", s.Port, path))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		}
	})

	t.Run("--enable-pprof serves profiles to admins only", func(t *testing.T) {
		if !slices.Contains(args, "--enable-pprof") {
			out, err := s.Kubectl("get", "--raw", "/debug/pprof/goroutine?debug=1")
			assert.Error(t, err, "profiles are off by default: %s", out)
			return
		}
		out := s.MustKubectl("get", "--raw", "/debug/pprof/goroutine?debug=1")
		assert.Contains(t, out, "goroutine profile:")
		assert.Contains(t, out, "k8s.io/apiserver")
		url := fmt.Sprintf("https://127.0.0.1:%d/debug/pprof/goroutine?debug=1", s.Port)
		scheduler, err := tls.LoadX509KeyPair(s.DataDir+"/server/tls/client-scheduler.crt", s.DataDir+"/server/tls/client-scheduler.key")
		require.NoError(t, err)
		for who, certs := range map[string][]tls.Certificate{"anonymous": nil, "scheduler": {scheduler}} {
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
				InsecureSkipVerify: true, Certificates: certs}}} //nolint:gosec // only the refusal is checked
			resp, err := client.Get(url)
			require.NoError(t, err, who)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, who)
			assert.NotContains(t, string(body), "goroutine profile:", who)
		}
	})

	t.Run("the token pins the CA served at /cacerts", func(t *testing.T) {
		client := insecureClient()
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/cacerts", s.Port))
		require.NoError(t, err)
		ca, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(ca)
		tok, err := os.ReadFile(s.DataDir + "/server/token")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(tok), "W10"+hex.EncodeToString(sum[:])+"::server:"), string(tok))
	})

	t.Run("secrets and keys are private", func(t *testing.T) {
		for _, f := range []string{s.Kubeconfig, s.DataDir + "/server/token", s.DataDir + "/server/tls/server-ca.key",
			s.DataDir + "/server/tls/service.key"} {
			fi, err := os.Stat(f)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
		}
	})

	t.Run("a restart keeps everything", func(t *testing.T) {
		caBefore, _ := os.ReadFile(s.DataDir + "/server/tls/server-ca.crt")
		s.Restart()
		assert.Equal(t, "v", s.MustKubectl("-n", "itest", "get", "configmap", "cm1", "-o", "jsonpath={.data.k}"))
		assert.Contains(t, s.MustKubectl("-n", "itest", "get", "secret", "sec1", "-o", "name"), "secret/sec1")
		assert.Equal(t, "chirp", s.MustKubectl("-n", "itest", "get", "bird", "robin", "-o", "jsonpath={.spec.song}"))
		assert.Contains(t, s.MustKubectl("-n", "itest", "get", "deployment", "web", "-o", "name"), "deployment.apps/web")
		caAfter, _ := os.ReadFile(s.DataDir + "/server/tls/server-ca.crt")
		assert.Equal(t, caBefore, caAfter)
	})

	t.Run("SIGKILL during 500 concurrent writes loses no acknowledged write", func(t *testing.T) {
		killDuringWrites(t, s, 500)
	})
}
