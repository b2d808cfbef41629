// SPDX-License-Identifier: Apache-2.0

package localpath

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseConfigRefusesBadFiles(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ json, err string }{
		"not JSON":          {`{`, "config.json: unexpected end of JSON input"},
		"empty path":        {`{"nodePathMap":[{"node":"a","paths":[""]}]}`, `node "a": path "" is not absolute`},
		"relative path":     {`{"nodePathMap":[{"node":"a","paths":["x"]}]}`, `node "a": path "x" is not absolute`},
		"root":              {`{"nodePathMap":[{"node":"a","paths":["/"]}]}`, `node "a": path / is not allowed`},
		"node twice":        {`{"nodePathMap":[{"node":"a","paths":["/x"]},{"node":"a","paths":["/y"]}]}`, `node "a" is listed twice`},
		"path twice":        {`{"nodePathMap":[{"node":"a","paths":["/x","/x/"]}]}`, `path /x is listed twice`},
		"both":              {`{"nodePathMap":[{"node":"a","paths":["/x"]}],"sharedFileSystemPath":"/s"}`, "not both"},
		"neither":           {`{}`, "set nodePathMap or sharedFileSystemPath"},
		"bad class section": {`{"storageClassConfigs":{"fast":{}}}`, `storageClassConfigs["fast"]: set nodePathMap`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.json))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
		})
	}
}

func TestPathSelection(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(`{
	  "nodePathMap": [
	    {"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["/var/lib/wren/storage"]},
	    {"node": "big", "paths": ["/mnt/b/", "/mnt/a"]},
	    {"node": "none", "paths": []}
	  ]}`))
	require.NoError(t, err)
	assert.Equal(t, defaultCmdTimeout, cfg.CmdTimeout)
	cc, err := cfg.class("local-path")
	require.NoError(t, err)
	for _, c := range []struct{ node, wanted, want, err string }{
		{node: "other", want: "/var/lib/wren/storage"},
		{node: "big", want: "/mnt/a"},
		{node: "big", wanted: "/mnt/b", want: "/mnt/b"},
		{node: "big", wanted: "/mnt/c", err: "nodePath /mnt/c is not a path of node big"},
		{node: "none", err: "lists no paths for node none"},
	} {
		got, err := cc.basePath(c.node, c.wanted)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}

	classes, err := ParseConfig([]byte(`{"storageClassConfigs": {"shared": {"sharedFileSystemPath": "/nfs"}}}`))
	require.NoError(t, err)
	_, err = classes.class("local-path")
	assert.ErrorContains(t, err, `storage class "local-path" is not in config.json's storageClassConfigs`)
	cc, err = classes.class("shared")
	require.NoError(t, err)
	got, err := cc.basePath("", "")
	require.NoError(t, err)
	assert.Equal(t, "/nfs", got)
}

func TestVolumeDir(t *testing.T) {
	t.Parallel()
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data",
		Labels: map[string]string{"app": "db"}}}
	got, err := volumeDir("/srv", "", "pvc-1", pvc)
	require.NoError(t, err)
	assert.Equal(t, "/srv/pvc-1_ns_data", got)
	got, err = volumeDir("/srv", "{{ .PVC.Namespace }}/{{ .PVC.Labels.app }}-{{ .PVName }}", "pvc-1", pvc)
	require.NoError(t, err)
	assert.Equal(t, "/srv/ns/db-pvc-1", got)
	_, err = volumeDir("/srv", "../../etc", "pvc-1", pvc)
	assert.ErrorContains(t, err, "leaves /srv")
	_, err = volumeDir("/srv", "{{ .Nope }}", "pvc-1", pvc)
	assert.ErrorContains(t, err, "pathPattern")
}
