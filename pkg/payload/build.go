// SPDX-License-Identifier: Apache-2.0

package payload

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/klauspost/compress/zstd"
)

// Pack turns the directory tree at src into a compressed payload. Entries are
// sorted and carry no timestamps or owners, so the same input gives the same
// bytes (and the same hash).
func Pack(src string) ([]byte, error) {
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
		return nil, err
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, path := range paths {
		rel, _ := filepath.Rel(src, path)
		fi, err := os.Lstat(path)
		if err != nil {
			return nil, err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), Format: tar.FormatPAX}
		switch {
		case fi.IsDir():
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case fi.Mode()&fs.ModeSymlink != 0:
			h.Typeflag = tar.TypeSymlink
			if h.Linkname, err = os.Readlink(path); err != nil {
				return nil, err
			}
		default:
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, int64(fi.Mode().Perm()), fi.Size()
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			if _, err := tw.Write(b); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
