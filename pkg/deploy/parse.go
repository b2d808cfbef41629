// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var (
	yamlLine  = regexp.MustCompile(`line (\d+)`)
	yamlError = regexp.MustCompile(`^(?:error converting YAML to JSON: )?yaml: line (\d+): (.*)$`)
)

// Parse reads a manifest file (YAML documents separated by ---, or JSON)
// into objects. Errors name the file's line, not the document's.
func Parse(name string, content []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, doc := range splitDocuments(content) {
		if len(bytes.TrimSpace(stripComments(doc.body))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(doc.body)
		if err != nil {
			return nil, fmt.Errorf("%s: %s", name, fileLine(err.Error(), doc.line))
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(js, &m); err != nil {
			return nil, fmt.Errorf("%s: line %d: not an object: %v", name, doc.line, err)
		}
		u := &unstructured.Unstructured{Object: m}
		items, err := flatten(u)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", name, doc.line, err)
		}
		for _, it := range items {
			if it.GetAPIVersion() == "" || it.GetKind() == "" || it.GetName() == "" {
				return nil, fmt.Errorf("%s: line %d: an object needs apiVersion, kind and metadata.name", name, doc.line)
			}
		}
		objs = append(objs, items...)
	}
	return objs, nil
}

// flatten expands a kind: List into its items.
func flatten(u *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if !u.IsList() {
		return []*unstructured.Unstructured{u}, nil
	}
	list, err := u.ToList()
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}

type document struct {
	body []byte
	line int // 1-based line of the document's first line in the file
}

// splitDocuments splits on lines that are exactly "---" (optionally followed
// by a comment), keeping each document's starting line.
func splitDocuments(content []byte) []document {
	var docs []document
	lines := strings.SplitAfter(string(content), "\n")
	start := 1
	var cur strings.Builder
	for i, l := range lines {
		trimmed := strings.TrimRight(l, "\r\n")
		if trimmed == "---" || strings.HasPrefix(trimmed, "--- ") {
			docs = append(docs, document{body: []byte(cur.String()), line: start})
			cur.Reset()
			start = i + 2
			continue
		}
		cur.WriteString(l)
	}
	return append(docs, document{body: []byte(cur.String()), line: start})
}

// fileLine rewrites "line N" of a YAML error to the file's numbering.
func fileLine(msg string, docStart int) string {
	// The usual shape, "yaml: line N: what", becomes "line M: what".
	if m := yamlError.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return "line " + strconv.Itoa(n+docStart-1) + ": " + m[2]
	}
	return yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(yamlLine.FindStringSubmatch(m)[1])
		return "line " + strconv.Itoa(n+docStart-1)
	})
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out = append(out, l...)
			out = append(out, '\n')
		}
	}
	return out
}
