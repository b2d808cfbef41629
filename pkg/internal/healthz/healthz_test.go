// SPDX-License-Identifier: Apache-2.0

package healthz

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckNamesFailingChecks(t *testing.T) {
	t.Parallel()
	healthy := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if healthy {
			_, _ = w.Write([]byte("ok"))
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("[+]ping ok\n[-]etcd failed: reason withheld\n[-]poststarthook/rbac failed: not finished\nreadyz check failed\n"))
	}))
	defer srv.Close()
	p := NewHTTP(srv.URL + "/readyz")
	err := p.Check(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "failing: etcd, poststarthook/rbac")
	healthy = true
	require.NoError(t, p.Check(t.Context()))
}
