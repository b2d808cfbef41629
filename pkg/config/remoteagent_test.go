// SPDX-License-Identifier: Apache-2.0

package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRemoteAgentValidate(t *testing.T) {
	full := "W10" + strings.Repeat("ab", 32) + "::server:s3cret"
	cases := []struct{ name, server, token, want string }{
		{"ok", "https://10.0.0.1:6443", full, ""},
		{"no server", "", full, "--server: required"},
		{"http server", "http://10.0.0.1:6443", full, `--server "http://10.0.0.1:6443": want https://host:port`},
		{"no token", "https://srv", "", "--token: required"},
		{"bad token", "https://srv", "W10zz::a:b", "--token: token CA hash has 2 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := DefaultRemoteAgent()
			r.DataDir = t.TempDir()
			r.ServerURL, r.Token = tc.server, tc.token
			r.Agent.ResolvConf = "/dev/null"
			require.NoError(t, r.Complete())
			err := r.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, "10.0.0.1:6443", r.RemoteDerived.ServerAddress)
				assert.Equal(t, "s3cret", r.RemoteDerived.Token.Secret)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	r := DefaultRemoteAgent()
	r.DataDir, r.ServerURL, r.Token, r.WithNodeID = t.TempDir(), "https://srv", "bare", true
	r.Agent.NodeName = "pi"
	require.NoError(t, r.Complete())
	assert.Regexp(t, `^pi-[0-9a-f]{8}$`, r.Agent.AgentDerived.NodeName, "--with-node-id")
	require.NoError(t, r.Validate())
	assert.Equal(t, "node", r.RemoteDerived.Token.User, "a bare secret joins as a node")
	assert.Equal(t, "srv:6443", r.RemoteDerived.ServerAddress)
}
