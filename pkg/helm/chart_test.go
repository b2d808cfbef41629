// SPDX-License-Identifier: Apache-2.0

package helm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestValuesLayering(t *testing.T) {
	t.Parallel()
	spec := ChartSpec{
		ValuesContent: "replicas: 1\nimage: {repo: a, tag: v1}\nlist: [1, 2]\n",
		Set:           map[string]intstr.IntOrString{"image.tag": intstr.FromString("v3")},
	}
	config := &ConfigSpec{ValuesContent: "image: {tag: v2}\nextra: true\n"}
	vals, err := Values(spec, config)
	require.NoError(t, err)
	assert.Equal(t, float64(1), vals["replicas"])
	assert.Equal(t, map[string]any{"repo": "a", "tag": "v3"}, vals["image"], "set beats config beats chart, maps merge")
	assert.Equal(t, true, vals["extra"])

	_, err = Values(ChartSpec{ValuesContent: "a: [unclosed"}, nil)
	assert.ErrorContains(t, err, "valuesContent")
	_, err = Values(ChartSpec{}, &ConfigSpec{ValuesContent: "a: [unclosed"})
	assert.ErrorContains(t, err, "HelmChartConfig valuesContent")
}

func TestChangeHash(t *testing.T) {
	t.Parallel()
	a := changeHash([]byte("chart"), map[string]any{"x": 1}, "ns")
	assert.Equal(t, a, changeHash([]byte("chart"), map[string]any{"x": 1}, "ns"))
	assert.NotEqual(t, a, changeHash([]byte("chart"), map[string]any{"x": 2}, "ns"))
	assert.NotEqual(t, a, changeHash([]byte("chart2"), map[string]any{"x": 1}, "ns"))
}
