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
		name, _ := NameValue(e)
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
	isName := func(e string) bool { n, _ := NameValue(e); return n == name }
	at := slices.IndexFunc(extra, isName)
	if at < 0 {
		return extra
	}
	var merged []string
	for _, item := range splitList(defaults[name]) {
		if !slices.Contains(remove, item) && !slices.Contains(merged, item) {
			merged = append(merged, item)
		}
	}
	for _, item := range Values(extra, name) {
		if !slices.Contains(merged, item) {
			merged = append(merged, item)
		}
	}
	// Every item before the first occurrence stays, so it goes back at "at".
	out := slices.DeleteFunc(slices.Clone(extra), isName)
	return slices.Insert(out, at, name+"="+strings.Join(merged, ","))
}

// Values returns every item a flag is given in extra (comma-separated values
// of all its occurrences).
func Values(extra []string, name string) []string {
	var out []string
	for _, e := range extra {
		if n, v := NameValue(e); n == name {
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

// nameValue splits a "name=value" or "--name=value" item.
func NameValue(e string) (name, value string) {
	name, value, _ = strings.Cut(strings.TrimLeft(e, "-"), "=")
	return name, value
}
