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

// A user's admission plugins and authorization modes add to wren's: they do
// not silently drop NodeRestriction, Node or RBAC.
func TestSecurityListsMerge(t *testing.T) {
	defaults := map[string]string{"enable-admission-plugins": "NodeRestriction", "authorization-mode": "Node,RBAC"}
	for name, tc := range map[string]struct {
		user              []string
		plugins, disabled []string
		modes             []string
	}{
		"plugins added": {user: []string{"enable-admission-plugins=AlwaysPullImages", "--v=2"},
			plugins: []string{"NodeRestriction", "AlwaysPullImages"}, modes: []string{"Node", "RBAC"}},
		"given twice, with a duplicate": {user: []string{"enable-admission-plugins=PodNodeSelector", "enable-admission-plugins=NodeRestriction,EventRateLimit"},
			plugins: []string{"NodeRestriction", "PodNodeSelector", "EventRateLimit"}, modes: []string{"Node", "RBAC"}},
		"NodeRestriction disabled on purpose": {user: []string{"enable-admission-plugins=AlwaysPullImages", "disable-admission-plugins=NodeRestriction"},
			plugins: []string{"AlwaysPullImages"}, disabled: []string{"NodeRestriction"}, modes: []string{"Node", "RBAC"}},
		"modes added after Node and RBAC": {user: []string{"authorization-mode=RBAC,Webhook"},
			plugins: []string{"NodeRestriction"}, modes: []string{"Node", "RBAC", "Webhook"}},
	} {
		a := &APIServer{cfg: APIServerConfig{ExtraArgs: tc.user}}
		opts := options.NewServerRunOptions()
		if err := parseInto("kube-apiserver", opts.Flags(), a.flags(defaults)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := opts.Admission.GenericAdmission.EnablePlugins; !slices.Equal(got, tc.plugins) {
			t.Errorf("%s: admission plugins %v, want %v", name, got, tc.plugins)
		}
		if got := opts.Admission.GenericAdmission.DisablePlugins; !slices.Equal(got, tc.disabled) {
			t.Errorf("%s: disabled plugins %v, want %v", name, got, tc.disabled)
		}
		if got := opts.Authorization.Modes; !slices.Equal(got, tc.modes) {
			t.Errorf("%s: authorization modes %v, want %v", name, got, tc.modes)
		}
	}
}
