// SPDX-License-Identifier: Apache-2.0

// Package cliargs renders command-line flags for the upstream components wren
// runs: wren's defaults followed by the user's --kube-*-arg values.
package cliargs

import (
	"slices"
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

// MergeList makes a user's list-valued flag (comma-separated, like
// --enable-admission-plugins) add to wren's value instead of replacing it:
// every occurrence of name in extra becomes one "name=<wren's items, then
// the user's new ones>" at the first occurrence's place. Items listed in
// remove (the user's own opposite flag, such as disabled plugins) are left
// out of wren's part. extra is returned unchanged when it does not set name.
func MergeList(defaults map[string]string, extra []string, name string, remove []string) []string {
	var user []string
	at := -1
	out := make([]string, 0, len(extra))
	for _, e := range extra {
		n, v, _ := strings.Cut(strings.TrimLeft(e, "-"), "=")
		if n != name {
			out = append(out, e)
			continue
		}
		if at < 0 {
			at = len(out)
			out = append(out, "")
		}
		user = append(user, splitList(v)...)
	}
	if at < 0 {
		return extra
	}
	var merged []string
	seen := map[string]bool{}
	for _, item := range splitList(defaults[name]) {
		if !slices.Contains(remove, item) && !seen[item] {
			merged, seen[item] = append(merged, item), true
		}
	}
	for _, item := range user {
		if !seen[item] {
			merged, seen[item] = append(merged, item), true
		}
	}
	out[at] = name + "=" + strings.Join(merged, ",")
	return out
}

// Values returns every item a flag is given in extra (comma-separated values
// of all its occurrences).
func Values(extra []string, name string) []string {
	var out []string
	for _, e := range extra {
		if n, v, _ := strings.Cut(strings.TrimLeft(e, "-"), "="); n == name {
			out = append(out, splitList(v)...)
		}
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
