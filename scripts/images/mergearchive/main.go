// SPDX-License-Identifier: Apache-2.0

// Command mergearchive merges OCI image layout archives (as mkimage writes
// them) into one archive holding every image: the air-gap image tarball of
// a release. Blobs shared by several images are stored once.
//
//	go run ./scripts/images/mergearchive -o all.tar a.tar b.tar ...
package main

import (
	"archive/tar"
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
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mergearchive -o OUT.tar IN.tar...")
		os.Exit(2)
	}
	if err := merge(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mergearchive:", err)
		os.Exit(1)
	}
}

func merge(out string, ins []string) error {
	merged := index{SchemaVersion: 2, MediaType: "application/vnd.oci.image.index.v1+json"}
	blobs := map[string][]byte{}
	for _, in := range ins {
		idx, err := read(in, blobs)
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		merged.Manifests = append(merged.Manifests, idx.Manifests...)
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
