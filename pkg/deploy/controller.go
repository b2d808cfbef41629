// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/record"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/events"
)

// Records of what each manifest file applied live in ConfigMaps in
// kube-system named wren-addon-<file>, labelled with ManagedByLabel.
const (
	recordNamespace = metav1.NamespaceSystem
	recordPrefix    = "wren-addon-"
	ManagedByLabel  = "app.kubernetes.io/managed-by"
	managedBy       = "wren-deploy"
)

// Controller applies the manifests folder and keeps it applied.
type Controller struct {
	stager   *Stager
	dir      string
	interval time.Duration
	rest     func() (*rest.Config, error)
	log      *slog.Logger

	cs       kubernetes.Interface
	applier  *applier
	recorder record.EventRecorder
	failed   map[string]string // file → checksum whose failure was already reported
	synced   atomic.Bool
	component.Task
}

var (
	_ component.Component = (*Controller)(nil)
	_ component.Exiter    = (*Controller)(nil)
)

// NewController returns the deploy component: it stages the bundled files
// with stager, then applies stager.Dir every interval.
func NewController(stager *Stager, interval time.Duration, restConfig func() (*rest.Config, error), log *slog.Logger) *Controller {
	return &Controller{stager: stager, dir: stager.Dir, interval: interval, rest: restConfig, log: log, failed: map[string]string{}}
}

// Name implements component.Component.
func (c *Controller) Name() string { return "deploy" }

// Start stages the bundled manifests and starts the apply loop.
func (c *Controller) Start(ctx context.Context) error {
	if err := c.stager.Stage(); err != nil {
		return err
	}
	cfg, err := c.rest()
	if err != nil {
		return err
	}
	if c.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c.applier = &applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.cs.Discovery()))}
	var stopEvents func()
	c.recorder, stopEvents = events.NewRecorder(ctx, c.cs, "wren-deploy")
	c.Go(ctx, func(ctx context.Context) error {
		defer stopEvents()
		for {
			c.sync(ctx)
			c.synced.Store(true)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(c.interval):
			}
		}
	})
	return nil
}

// Ready returns nil after the first pass over the folder.
func (c *Controller) Ready(context.Context) error {
	if !c.synced.Load() {
		return fmt.Errorf("applying %s", c.dir)
	}
	return nil
}

// record is what one manifest file applied.
type recordData struct {
	Source   string `json:"source"`
	Checksum string `json:"checksum"`
	Objects  []Ref  `json:"objects"`
}

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// recordName is the ConfigMap name for a file: wren-addon-<path, sanitized>.
func recordName(source string) string {
	stem := strings.TrimSuffix(source, filepath.Ext(source))
	name := recordPrefix + strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(stem), "-"), "-")
	if len(name) > 253 {
		name = name[:253]
	}
	return name
}

// sync applies new and changed files and removes what deleted files made.
func (c *Controller) sync(ctx context.Context) {
	files, skipped, err := scan(c.dir)
	if err != nil {
		c.log.Error("cannot read the manifests folder", "dir", c.dir, "err", err)
		return
	}
	records, err := c.records(ctx)
	if err != nil {
		c.log.Warn("cannot list add-on records", "err", err)
		return
	}
	sources := make([]string, 0, len(files))
	for s := range files {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	for _, source := range sources {
		content := files[source]
		sum := checksum(content)
		if rec, ok := records[source]; ok && rec.Checksum == sum {
			continue
		}
		if c.failed[source] == sum {
			// Retry quietly: the error was reported once for this content.
			if err := c.applyFile(ctx, source, content, records[source]); err == nil {
				delete(c.failed, source)
			}
			continue
		}
		if err := c.applyFile(ctx, source, content, records[source]); err != nil {
			c.failed[source] = sum
			c.report(ctx, source, err)
		}
	}
	for source, rec := range records {
		if _, ok := files[source]; ok || skipped[source] {
			continue
		}
		if err := c.applier.prune(ctx, rec.Objects, nil); err != nil {
			c.log.Warn("could not remove everything a deleted manifest created", "file", source, "err", err)
			continue
		}
		_ = c.cs.CoreV1().ConfigMaps(recordNamespace).Delete(ctx, recordName(source), metav1.DeleteOptions{})
		c.log.Info("removed the objects of a deleted manifest", "file", source, "objects", len(rec.Objects))
	}
}

func (c *Controller) applyFile(ctx context.Context, source string, content []byte, old *recordData) error {
	objs, err := Parse(source, content)
	if err != nil {
		return err
	}
	refs, err := c.applier.apply(ctx, objs)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if old != nil {
		if err := c.applier.prune(ctx, old.Objects, refs); err != nil {
			return fmt.Errorf("%s: prune: %w", source, err)
		}
	}
	if err := c.saveRecord(ctx, recordData{Source: source, Checksum: checksum(content), Objects: refs}); err != nil {
		return err
	}
	c.log.Info("applied manifest", "file", source, "objects", len(refs))
	return nil
}

// report logs an apply failure and records it as an event on the file's record.
func (c *Controller) report(ctx context.Context, source string, err error) {
	c.log.Error("cannot apply manifest", "file", filepath.Join(c.dir, source), "err", err)
	cm, getErr := c.cs.CoreV1().ConfigMaps(recordNamespace).Get(ctx, recordName(source), metav1.GetOptions{})
	if apierrors.IsNotFound(getErr) {
		cm, getErr = c.createRecord(ctx, recordData{Source: source})
	}
	if getErr == nil {
		c.recorder.Eventf(cm, corev1.EventTypeWarning, "ApplyFailed", "%s: %v", filepath.Join(c.dir, source), err)
	}
}

func (c *Controller) records(ctx context.Context) (map[string]*recordData, error) {
	list, err := c.cs.CoreV1().ConfigMaps(recordNamespace).List(ctx, metav1.ListOptions{LabelSelector: ManagedByLabel + "=" + managedBy})
	if err != nil {
		return nil, err
	}
	out := map[string]*recordData{}
	for _, cm := range list.Items {
		var r recordData
		if err := json.Unmarshal([]byte(cm.Data["record"]), &r); err == nil && r.Source != "" {
			out[r.Source] = &r
		}
	}
	return out, nil
}

func recordConfigMap(r recordData) *corev1.ConfigMap {
	b, _ := json.Marshal(r)
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: recordName(r.Source), Namespace: recordNamespace,
			Labels:      map[string]string{ManagedByLabel: managedBy},
			Annotations: map[string]string{"wren.io/source": r.Source}},
		Data: map[string]string{"record": string(b)},
	}
}

func (c *Controller) createRecord(ctx context.Context, r recordData) (*corev1.ConfigMap, error) {
	return c.cs.CoreV1().ConfigMaps(recordNamespace).Create(ctx, recordConfigMap(r), metav1.CreateOptions{})
}

func (c *Controller) saveRecord(ctx context.Context, r recordData) error {
	cm := recordConfigMap(r)
	_, err := c.cs.CoreV1().ConfigMaps(recordNamespace).Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = c.createRecord(ctx, r)
	}
	return err
}

// scan reads the manifest files below dir: *.yaml, *.yml and *.json, not
// hidden. Files with a <file>.skip next to them are returned as skipped:
// neither applied nor pruned.
func scan(dir string) (files map[string][]byte, skipped map[string]bool, err error) {
	out := map[string][]byte{}
	skipped = map[string]bool{}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if d.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if _, err := os.Stat(path + ".skip"); err == nil {
			skipped[rel] = true
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[rel] = b
		return nil
	})
	return out, skipped, err
}
