// SPDX-License-Identifier: Apache-2.0

package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// APIPlaceholder in a chart URL stands for the server's own address, so a
// HelmChart can install a chart the server serves under /static/.
const APIPlaceholder = "%{KUBERNETES_API}%"

// fetcher downloads charts: over TLS it trusts the system roots, the
// server's CA and a HelmChart's repoCA.
type fetcher struct {
	apiHost  string // host:port the placeholder is replaced with
	serverCA []byte
}

// load returns the chart and its archive bytes (for the change hash).
func (f *fetcher) load(ctx context.Context, spec ChartSpec) (*chart.Chart, []byte, error) {
	var archive []byte
	var err error
	switch {
	case spec.ChartContent != "":
		archive, err = base64.StdEncoding.DecodeString(strings.TrimSpace(spec.ChartContent))
		if err != nil {
			return nil, nil, fmt.Errorf("chartContent is not base64: %w", err)
		}
	case strings.HasPrefix(spec.Chart, "http://") || strings.HasPrefix(spec.Chart, "https://"):
		archive, err = f.get(ctx, strings.ReplaceAll(spec.Chart, APIPlaceholder, f.apiHost), spec.RepoCA)
	case spec.Repo != "" && spec.Chart != "":
		archive, err = f.fromRepo(ctx, spec)
	default:
		return nil, nil, fmt.Errorf("spec needs chartContent, a chart URL, or repo and chart")
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return nil, nil, fmt.Errorf("chart archive: %w", err)
	}
	return c, archive, nil
}

// fromRepo reads the repository index, picks the version (latest when
// unset) and downloads it.
func (f *fetcher) fromRepo(ctx context.Context, spec ChartSpec) ([]byte, error) {
	base := strings.TrimSuffix(strings.ReplaceAll(spec.Repo, APIPlaceholder, f.apiHost), "/")
	index, err := f.get(ctx, base+"/index.yaml", spec.RepoCA)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp("", "wren-helm-index-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, _ = tmp.Write(index)
	tmp.Close()
	idx, err := repo.LoadIndexFile(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("repository index %s: %w", base, err)
	}
	cv, err := idx.Get(spec.Chart, spec.Version)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s in %s: %w", spec.Chart, spec.Version, base, err)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart %s %s in %s has no download URL", spec.Chart, cv.Version, base)
	}
	u, err := repo.ResolveReferenceURL(base, cv.URLs[0])
	if err != nil {
		return nil, err
	}
	return f.get(ctx, u, spec.RepoCA)
}

func (f *fetcher) get(ctx context.Context, url, repoCA string) ([]byte, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pool.AppendCertsFromPEM(f.serverCA)
	pool.AppendCertsFromPEM([]byte(repoCA))
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

// Values merges the chart's valuesContent, then the HelmChartConfig's on
// top (maps merge deeply, the later value wins), then spec.set.
func Values(spec ChartSpec, config *ConfigSpec) (map[string]any, error) {
	vals := map[string]any{}
	layers := []string{spec.ValuesContent}
	if config != nil {
		layers = append(layers, config.ValuesContent)
	}
	for i, content := range layers {
		layer := map[string]any{}
		if err := yaml.Unmarshal([]byte(content), &layer); err != nil {
			which := "valuesContent"
			if i == 1 {
				which = "HelmChartConfig valuesContent"
			}
			return nil, fmt.Errorf("%s: %w", which, err)
		}
		vals = chartutil.CoalesceTables(layer, vals)
	}
	for k, v := range spec.Set {
		if err := strvals.ParseInto(k+"="+v.String(), vals); err != nil {
			return nil, fmt.Errorf("set %s: %w", k, err)
		}
	}
	return vals, nil
}

// changeHash identifies what an install would apply.
func changeHash(archive []byte, vals map[string]any, namespace string) string {
	h := sha256.New()
	h.Write(archive)
	b, _ := json.Marshal(vals)
	h.Write(b)
	h.Write([]byte(namespace))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// StaticDir is where, under the server directory, charts to serve are kept.
func StaticDir(serverDir string) string { return filepath.Join(serverDir, "static") }
