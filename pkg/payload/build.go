// SPDX-License-Identifier: Apache-2.0

package payload

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Pack writes the directory tree at src to w as a tar stream, for the
// caller to compress with zstd (scripts/payload runs the zstd tool with a
// long window). Entries are sorted and carry no timestamps or owners, so the
// same input gives the same bytes (and the same hash).
func Pack(src string, w io.Writer) error {
	var paths []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != src {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	tw := tar.NewWriter(w)
	for _, path := range paths {
		if err := packEntry(tw, src, path); err != nil {
			return err
		}
	}
	return tw.Close()
}

func packEntry(tw *tar.Writer, src, path string) error {
	rel, _ := filepath.Rel(src, path)
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	h := &tar.Header{Name: filepath.ToSlash(rel), Format: tar.FormatPAX}
	switch {
	case fi.IsDir():
		h.Typeflag, h.Mode = tar.TypeDir, 0o755
	case fi.Mode()&fs.ModeSymlink != 0:
		h.Typeflag = tar.TypeSymlink
		if h.Linkname, err = os.Readlink(path); err != nil {
			return err
		}
	default:
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, int64(fi.Mode().Perm()), fi.Size()
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if h.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}
