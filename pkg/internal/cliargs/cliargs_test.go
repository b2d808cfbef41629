// SPDX-License-Identifier: Apache-2.0

package cliargs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestArgs(t *testing.T) {
	t.Parallel()
	got := Render(map[string]string{"b": "2", "a": "1", "profiling": "false"},
		[]string{"profiling=true", "--v=3", "feature-gates=A=true", "feature-gates=B=false", "enable-x"})
	assert.Equal(t, []string{"--a=1", "--b=2", "--profiling=true", "--v=3",
		"--feature-gates=A=true", "--feature-gates=B=false", "--enable-x"}, got)
}
