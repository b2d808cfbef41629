// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDocumentsAndLists(t *testing.T) {
	t.Parallel()
	objs, err := Parse("a.yaml", []byte(`# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: x}
---
# only a comment
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: two}}
- {apiVersion: v1, kind: Namespace, metadata: {name: three}}
`))
	require.NoError(t, err)
	require.Len(t, objs, 3)
	assert.Equal(t, "one", objs[0].GetName())
	assert.Equal(t, "three", objs[2].GetName())
}

func TestParseErrorsNameTheFileLine(t *testing.T) {
	t.Parallel()
	_, err := Parse("broken.yaml", []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: fine}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bad
    indent: wrong
`))
	require.Error(t, err)
	assert.Regexp(t, `^broken.yaml: line 9: \S`, err.Error())

	_, err = Parse("noname.yaml", []byte("apiVersion: v1\nkind: ConfigMap\n"))
	assert.ErrorContains(t, err, "noname.yaml: line 1: an object needs apiVersion, kind and metadata.name")
}
