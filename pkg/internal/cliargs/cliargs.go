// SPDX-License-Identifier: Apache-2.0

// Package cliargs renders command-line flags for the upstream components wren
// runs: wren's defaults followed by the user's --kube-*-arg values.
package cliargs

import (
	"sort"
	"strings"
)

// Render returns wren's flags for an upstream component followed by the
// user's extra ones ("name=value" or "--name=value"). A user flag replaces
// wren's flag of the same name; repeated user flags are all passed, in order.
func Render(defaults map[string]string, extra []string) []string {
	overridden := map[string]bool{}
	for _, e := range extra {
		name, _, _ := strings.Cut(strings.TrimLeft(e, "-"), "=")
		overridden[name] = true
	}
	names := make([]string, 0, len(defaults))
	for name := range defaults {
		if !overridden[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := make([]string, 0, len(names)+len(extra))
	for _, name := range names {
		out = append(out, "--"+name+"="+defaults[name])
	}
	return append(out, Flags(extra)...)
}

// Flags turns "name=value" items into "--name=value" flags.
func Flags(extra []string) []string {
	out := make([]string, 0, len(extra))
	for _, e := range extra {
		out = append(out, "--"+strings.TrimLeft(e, "-"))
	}
	return out
}
