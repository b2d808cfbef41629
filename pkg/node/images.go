// SPDX-License-Identifier: Apache-2.0

package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// PinnedLabel keeps an image from kubelet's image garbage collection.
const PinnedLabel = "io.cri-containerd.pinned"

// ImageDir is a directory of image tarballs to import.
type ImageDir struct {
	Path string
	// Pin marks the images as pinned (the bundled sandbox image).
	Pin bool
}

// Images imports image tarballs (OCI layout or docker archive, plain, gzip or
// zstd) into containerd's Kubernetes namespace before the kubelet starts:
// the bundled ones first, then the user's in <data-dir>/agent/images.
type Images struct {
	socket string
	dirs   []ImageDir
	state  string // remembers what was imported, to skip unchanged files
	log    *slog.Logger
}

var _ component.Component = (*Images)(nil)

// NewImages returns the image import component.
func NewImages(socket string, dirs []ImageDir, stateFile string, log *slog.Logger) *Images {
	return &Images{socket: socket, dirs: dirs, state: stateFile, log: log}
}

// Name implements component.Component.
func (i *Images) Name() string { return "images" }

// Start imports every tarball; a broken one is logged by name and skipped.
func (i *Images) Start(ctx context.Context) error {
	cli, err := containerd.New(i.socket)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx = namespaces.WithNamespace(ctx, "k8s.io")
	done := i.loadState()
	next := map[string][]string{}
	for _, dir := range i.dirs {
		for _, file := range tarballs(dir.Path) {
			key, err := fileKey(file)
			if err != nil {
				i.log.Error("cannot read image tarball", "file", file, "err", err)
				continue
			}
			if names, ok := done[key]; ok && allPresent(ctx, cli, names) {
				next[key] = names
				continue
			}
			t0 := time.Now()
			names, err := importTarball(ctx, cli, file, dir.Pin)
			if err != nil {
				i.log.Error("skipping image tarball", "file", file, "err", err)
				continue
			}
			next[key] = names
			i.log.Info("imported images", "file", file, "images", strings.Join(names, ","), "took", time.Since(t0).Round(time.Millisecond))
		}
	}
	return i.saveState(next)
}

// Ready implements component.Component.
func (i *Images) Ready(context.Context) error { return nil }

// Stop implements component.Component.
func (i *Images) Stop(context.Context) error { return nil }

// tarballs lists the image files in dir in name order.
func tarballs(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		fi, err := os.Stat(filepath.Join(dir, n)) // follows symlinks
		if err == nil && fi.Mode().IsRegular() && !strings.HasPrefix(n, ".") &&
			(strings.HasSuffix(n, ".tar") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz") ||
				strings.HasSuffix(n, ".tar.zst") || strings.HasSuffix(n, ".tzst")) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out
}

func importTarball(ctx context.Context, cli *containerd.Client, file string, pin bool) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := compression.DecompressStream(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var opts []containerd.ImportOpt
	if pin {
		opts = append(opts, containerd.WithImageLabels(map[string]string{PinnedLabel: "pinned"}))
	}
	imgs, err := cli.Import(ctx, r, opts...)
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("no images in the tarball")
	}
	var names []string
	for _, img := range imgs {
		image := containerd.NewImage(cli, img)
		if err := image.Unpack(ctx, "overlayfs"); err != nil {
			return nil, fmt.Errorf("unpack %s: %w", img.Name, err)
		}
		names = append(names, img.Name)
	}
	return names, nil
}

// fileKey identifies a tarball's content cheaply: path, size and mtime.
func fileKey(file string) (string, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s %d %d", file, fi.Size(), fi.ModTime().UnixNano())))
	return hex.EncodeToString(sum[:8]), nil
}

// allPresent reports whether containerd still has every named image.
func allPresent(ctx context.Context, cli *containerd.Client, names []string) bool {
	for _, n := range names {
		if _, err := cli.ImageService().Get(ctx, n); err != nil {
			return false
		}
	}
	return len(names) > 0
}

// loadState reads "key name,name" lines: tarballs imported before and their images.
func (i *Images) loadState() map[string][]string {
	done := map[string][]string{}
	b, err := os.ReadFile(i.state)
	if err != nil {
		return done
	}
	for _, line := range strings.Split(string(b), "\n") {
		if key, names, ok := strings.Cut(line, " "); ok {
			done[key] = strings.Split(names, ",")
		}
	}
	return done
}

func (i *Images) saveState(imported map[string][]string) error {
	var lines []string
	for k, names := range imported {
		lines = append(lines, k+" "+strings.Join(names, ","))
	}
	sort.Strings(lines)
	return atomicfile.Write(i.state, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}
