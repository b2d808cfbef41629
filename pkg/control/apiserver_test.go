// SPDX-License-Identifier: Apache-2.0

package control

import (
	"slices"
	"testing"

	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

// A single server turns the peer proxy off first, so a user's
// --feature-gates (parsed later, merged by the apiserver) adds to it or
// turns it back on, and wren's other args stay overridable.
func TestSingleServerFlags(t *testing.T) {
	defaults := map[string]string{"endpoint-reconciler-type": "master-count", "profiling": "false"}
	gate := "--feature-gates=" + peerProxyGate + "=false"

	multi := &APIServer{cfg: APIServerConfig{ExtraArgs: []string{"v=2"}}}
	if got := multi.flags(defaults); slices.Contains(got, gate) {
		t.Errorf("several servers: the peer proxy was turned off: %v", got)
	}

	user := []string{"feature-gates=" + peerProxyGate + "=true", "endpoint-reconciler-type=lease"}
	single := &APIServer{cfg: APIServerConfig{SingleServer: true, ExtraArgs: user}}
	got := single.flags(defaults)
	want := []string{gate, "--profiling=false", "--feature-gates=" + peerProxyGate + "=true", "--endpoint-reconciler-type=lease"}
	if !slices.Equal(got, want) {
		t.Errorf("single server with user flags:\n got %v\nwant %v", got, want)
	}
	// The upstream flag set takes the gate twice (it is a repeatable flag).
	if err := parseInto("kube-apiserver", options.NewServerRunOptions().Flags(), got); err != nil {
		t.Fatal(err)
	}
}
