// SPDX-License-Identifier: Apache-2.0

// Command mkimage writes a single-layer container image as an OCI image
// layout tarball that containerd imports directly, with no registry and no
// Docker. Files are added with -file src:dst[:mode], directories with -dir,
// symlinks with -link dst:target; -base puts a rootfs tarball (e.g. one
// made by mmdebstrap) under them as the image's first layer.
//
//	mkimage -name registry.k8s.io/pause:3.10.2 -entrypoint /pause \
//	        -file build/pause:/pause -o build/images/pause.tar
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var files, dirs, links, env list
	name := flag.String("name", "", "image reference, e.g. registry.k8s.io/pause:3.10.2")
	entrypoint := flag.String("entrypoint", "", `entrypoint, space separated or a JSON array (["a","b c"])`)
	out := flag.String("o", "", "output tarball")
	flag.Var(&files, "file", "src:dst[:mode] to add (repeatable)")
	flag.Var(&dirs, "dir", "directory to create, dst[:mode] (repeatable)")
	flag.Var(&links, "link", "symlink to create, dst:target (repeatable)")
	arch := flag.String("arch", runtime.GOARCH, "the image's architecture (GOARCH)")
	variant := flag.String("variant", "", "the architecture's variant (v7 for GOARCH=arm GOARM=7)")
	flag.Var(&env, "env", "KEY=VALUE for the image config (repeatable)")
	base := flag.String("base", "", "a rootfs tarball (uncompressed) to use as the first layer")
	cmd := flag.String("cmd", "", "the image's default arguments (CMD), as -entrypoint")
	user := flag.String("user", "", "the user the image runs as (USER)")
	flag.Parse()
	if *name == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "mkimage: -name and -o are required")
		os.Exit(2)
	}
	es, err := parseEntries(files, dirs, links)
	ic := imageConfig{user: *user, env: env}
	if err == nil {
		ic.entrypoint, err = words("-entrypoint", *entrypoint)
	}
	if err == nil {
		ic.cmd, err = words("-cmd", *cmd)
	}
	if err == nil {
		err = build(*name, platform{*arch, *variant}, ic, *base, es, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// words splits a command given as words or, starting with "[", as a JSON
// array of strings.
func words(flagName, s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") {
		return strings.Fields(s), nil
	}
	var w []string
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return nil, fmt.Errorf("%s %q: not a JSON array of strings: %w", flagName, s, err)
	}
	return w, nil
}

type entry struct {
	path, src, link string
	mode            int64
	dir             bool
}

func parseEntries(files, dirs, links list) ([]entry, error) {
	var es []entry
	for _, l := range links {
		p, target, ok := strings.Cut(l, ":")
		if !ok || target == "" {
			return nil, fmt.Errorf("-link %q: want dst:target", l)
		}
		es = append(es, entry{path: strings.TrimPrefix(p, "/"), link: target, mode: 0o777})
	}
	for _, d := range dirs {
		p, m, _ := strings.Cut(d, ":")
		mode := int64(0o755)
		if m != "" {
			v, err := strconv.ParseInt(m, 8, 32)
			if err != nil {
				return nil, fmt.Errorf("-dir %q: %w", d, err)
			}
			mode = v
		}
		es = append(es, entry{path: strings.TrimPrefix(p, "/"), mode: mode, dir: true})
	}
	for _, f := range files {
		parts := strings.Split(f, ":")
		if len(parts) < 2 {
			return nil, fmt.Errorf("-file %q: want src:dst[:mode]", f)
		}
		mode := int64(0o755)
		if len(parts) == 3 {
			v, err := strconv.ParseInt(parts[2], 8, 32)
			if err != nil {
				return nil, fmt.Errorf("-file %q: %w", f, err)
			}
			mode = v
		}
		es = append(es, entry{path: strings.TrimPrefix(parts[1], "/"), src: parts[0], mode: mode})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].path < es[j].path })
	return es, nil
}

// layer returns the uncompressed and gzipped layer tar.
func layer(es []entry) (raw, gz []byte, err error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	for _, e := range es {
		h := &tar.Header{Name: e.path, Mode: e.mode, ModTime: epoch, Format: tar.FormatPAX}
		var data []byte
		switch {
		case e.dir:
			h.Typeflag, h.Name = tar.TypeDir, e.path+"/"
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		default:
			if data, err = os.ReadFile(e.src); err != nil {
				return nil, nil, err
			}
			h.Typeflag, h.Size = tar.TypeReg, int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, nil, err
	}
	gz, err = gzipped(buf.Bytes())
	return buf.Bytes(), gz, err
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// platform is an image's architecture and its variant, if any.
type platform struct{ arch, variant string }

func (p platform) fields() map[string]string {
	m := map[string]string{"architecture": p.arch, "os": "linux"}
	if p.variant != "" {
		m["variant"] = p.variant
	}
	return m
}

// imageConfig is what the image runs: Docker's ENTRYPOINT, CMD, USER, ENV.
type imageConfig struct {
	entrypoint, cmd []string
	user            string
	env             list
}

// gzipped returns b gzip-compressed.
func gzipped(b []byte) ([]byte, error) {
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return zbuf.Bytes(), nil
}

func build(name string, p platform, ic imageConfig, base string, es []entry, out string) error {
	var diffIDs []string
	var layers [][]byte
	if base != "" {
		raw, err := os.ReadFile(base)
		if err != nil {
			return err
		}
		gz, err := gzipped(raw)
		if err != nil {
			return fmt.Errorf("-base %s: %w", base, err)
		}
		diffIDs, layers = append(diffIDs, digest(raw)), append(layers, gz)
	}
	raw, gz, err := layer(es)
	if err != nil {
		return err
	}
	diffIDs, layers = append(diffIDs, digest(raw)), append(layers, gz)
	run := map[string]any{"Entrypoint": ic.entrypoint, "Env": append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, ic.env...)}
	if len(ic.cmd) > 0 {
		run["Cmd"] = ic.cmd
	}
	if ic.user != "" {
		run["User"] = ic.user
	}
	cfg := map[string]any{
		"config":  run,
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": []map[string]any{{"created_by": "wren scripts/images/mkimage"}},
	}
	for k, v := range p.fields() {
		cfg[k] = v
	}
	config, _ := json.Marshal(cfg)
	var layerDescs []map[string]any
	for _, l := range layers {
		layerDescs = append(layerDescs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(l), "size": len(l)})
	}
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": len(config)},
		"layers":        layerDescs,
	})
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []map[string]any{{
			"mediaType": "application/vnd.oci.image.manifest.v1+json",
			"digest":    digest(manifest), "size": len(manifest),
			"platform":    p.fields(),
			"annotations": map[string]string{"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name},
		}},
	})
	blob := func(b []byte) string { return "blobs/sha256/" + strings.TrimPrefix(digest(b), "sha256:") }
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	type file struct {
		name string
		data []byte
	}
	files := []file{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{blob(config), config},
		{blob(manifest), manifest},
	}
	for _, l := range layers {
		files = append(files, file{blob(l), l})
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
