// SPDX-License-Identifier: Apache-2.0

package testutil

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/provenance"
	"helm.sh/helm/v3/pkg/repo"
)

// greeterTemplate is the one object of the test chart: a ConfigMap holding
// its values, so a test reads what the release was installed with.
const greeterTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-greeting
data:
  greeting: {{ required "greeting is required" .Values.greeting | quote }}
  color: {{ .Values.color | quote }}
  chartVersion: {{ .Chart.Version | quote }}
`

// HelmChart packages the test chart "greeter" at version into dir and
// returns the .tgz path.
func HelmChart(t testing.TB, dir, version string) string {
	t.Helper()
	values := "greeting: hello\ncolor: blue\n"
	c := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "greeter", Version: version, Type: "application"},
		Templates: []*chart.File{{Name: "templates/configmap.yaml", Data: []byte(greeterTemplate)}},
		Values:    map[string]any{"greeting": "hello", "color": "blue"},
		Raw:       []*chart.File{{Name: chartutil.ValuesfileName, Data: []byte(values)}},
	}
	path, err := chartutil.Save(c, dir)
	if err != nil {
		t.Fatalf("package chart: %v", err)
	}
	return path
}

// ServeHelmRepo serves the packaged charts as a chart repository on
// 127.0.0.1 and returns its URL. The test's cleanup stops it.
func ServeHelmRepo(t testing.TB, charts ...string) string {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	index := repo.NewIndexFile()
	for _, p := range charts {
		b, err := os.ReadFile(p)
		must(t, err)
		name := filepath.Base(p)
		must(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		digest, err := provenance.DigestFile(p)
		must(t, err)
		c, err := loader.Load(p)
		must(t, err)
		must(t, index.MustAdd(c.Metadata, name, url, digest))
	}
	index.SortEntries()
	must(t, index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644))
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return url
}
