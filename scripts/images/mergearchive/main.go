// SPDX-License-Identifier: Apache-2.0

// Command mergearchive merges OCI image layout archives (as mkimage writes
// them) into one archive holding every image: the air-gap image tarball of
// a release. Blobs shared by several images are stored once. With -multiarch
// the archives are the same images built for several architectures: each
// image name then points to one image index listing its per-platform
// manifests (what a registry serves as a multi-arch image).
//
//	go run ./scripts/images/mergearchive -o all.tar a.tar b.tar ...
//	go run ./scripts/images/mergearchive -multiarch -o all.tar amd64/*.tar arm64/*.tar
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

type index struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	Manifests     []json.RawMessage `json:"manifests"`
}

func main() {
	out := flag.String("o", "", "archive to write")
	multiarch := flag.Bool("multiarch", false, "one image index per image name, over the platforms of the inputs")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mergearchive [-multiarch] -o OUT.tar IN.tar...")
		os.Exit(2)
	}
	if err := merge(*out, flag.Args(), *multiarch); err != nil {
		fmt.Fprintln(os.Stderr, "mergearchive:", err)
		os.Exit(1)
	}
}

const indexMediaType = "application/vnd.oci.image.index.v1+json"

func merge(out string, ins []string, multiarch bool) error {
	merged := index{SchemaVersion: 2, MediaType: indexMediaType}
	blobs := map[string][]byte{}
	for _, in := range ins {
		idx, err := read(in, blobs)
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		merged.Manifests = append(merged.Manifests, idx.Manifests...)
	}
	if multiarch {
		var err error
		if merged.Manifests, err = perName(merged.Manifests, blobs); err != nil {
			return err
		}
	}
	idx, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(out + ".tmp")
	tw := tar.NewWriter(f)
	names := make([]string, 0, len(blobs))
	for n := range blobs {
		names = append(names, n)
	}
	sort.Strings(names)
	type entry struct {
		name string
		data []byte
	}
	entries := []entry{{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {"index.json", idx}}
	for _, n := range names {
		entries = append(entries, entry{n, blobs[n]})
	}
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(out+".tmp", out)
}

// read adds an archive's blobs to blobs and returns its index.
func read(path string, blobs map[string][]byte) (index, error) {
	var idx index
	f, err := os.Open(path)
	if err != nil {
		return idx, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	found := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return idx, err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return idx, err
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		switch {
		case name == "index.json":
			if err := json.Unmarshal(b, &idx); err != nil {
				return idx, fmt.Errorf("index.json: %w", err)
			}
			found = true
		case strings.HasPrefix(name, "blobs/"):
			blobs[name] = b
		}
	}
	if !found {
		return idx, errors.New("not an OCI image layout archive (no index.json)")
	}
	return idx, nil
}

// descriptor is the part of an OCI descriptor perName reads and writes.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    map[string]string `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// perName groups manifest descriptors by image name into one image index
// blob per name (added to blobs) and returns the descriptors of those
// indexes. Two manifests of one name for the same platform are an error.
func perName(manifests []json.RawMessage, blobs map[string][]byte) ([]json.RawMessage, error) {
	byName := map[string][]descriptor{}
	var names []string
	for _, raw := range manifests {
		var d descriptor
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, err
		}
		name := d.Annotations["io.containerd.image.name"]
		if name == "" {
			return nil, fmt.Errorf("manifest %s has no image name", d.Digest)
		}
		if d.Platform == nil {
			return nil, fmt.Errorf("%s: manifest %s has no platform", name, d.Digest)
		}
		for _, o := range byName[name] {
			if fmt.Sprint(o.Platform) == fmt.Sprint(d.Platform) {
				return nil, fmt.Errorf("%s: two manifests for %v", name, d.Platform)
			}
		}
		if byName[name] == nil {
			names = append(names, name)
		}
		d.Annotations = nil
		byName[name] = append(byName[name], d)
	}
	sort.Strings(names)
	out := make([]json.RawMessage, 0, len(names))
	for _, name := range names {
		b, err := json.Marshal(struct {
			SchemaVersion int          `json:"schemaVersion"`
			MediaType     string       `json:"mediaType"`
			Manifests     []descriptor `json:"manifests"`
		}{2, indexMediaType, byName[name]})
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		blobs["blobs/sha256/"+hex.EncodeToString(sum[:])] = b
		d, err := json.Marshal(descriptor{MediaType: indexMediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(b)),
			Annotations: map[string]string{"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name}})
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
