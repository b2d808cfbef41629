// SPDX-License-Identifier: Apache-2.0

package payload

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/wren-k8s/wren/pkg/internal/flock"
)

// manifestName lists every extracted file and its size; its presence marks a
// complete extraction.
const manifestName = ".manifest"

// maxWindow is the largest zstd window the payload may use: scripts/payload
// compresses with --long=27.
const maxWindow = 1 << 27

// Extract makes sure dataDir/<hash> holds the payload and returns that
// directory. It extracts into a temporary directory, verifies the payload's
// hash and renames the directory into place, so neither a crash nor a
// concurrent reader ever sees a partial tree; concurrent extractions (a
// server starting while `wren kubectl` runs) wait for each other. A
// directory already in place is never touched.
func (p *Payload) Extract(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, p.Hash())
	if checkManifest(dir) == nil {
		return dir, nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	lock, err := flock.Wait(filepath.Join(dataDir, ".extract.lock"))
	if err != nil {
		return "", err
	}
	defer lock.Release()
	if checkManifest(dir) == nil {
		return dir, nil // extracted by the process we waited for
	}
	if err := p.extractTo(dataDir, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// Adopt makes dir, an extracted payload under dataDir, the current one: it
// checks the extraction is complete and points dataDir/current at it (and
// dataDir/previous at the one it replaces).
func Adopt(dataDir, dir string) error {
	if filepath.Dir(dir) != filepath.Clean(dataDir) || !payloadDir.MatchString(filepath.Base(dir)) {
		return fmt.Errorf("wren runs from %s, not from a release extracted under %s: start it through the wren binary you installed", dir, dataDir)
	}
	if err := checkManifest(dir); err != nil {
		return fmt.Errorf("payload %s is incomplete: %w", dir, err)
	}
	return switchLink(dataDir, filepath.Base(dir))
}

func (p *Payload) extractTo(dataDir, dir string) error {
	// Extractions interrupted by a kill or a power cut (we hold the lock).
	stale, _ := filepath.Glob(filepath.Join(dataDir, ".extract-*"))
	for _, s := range stale {
		_ = os.RemoveAll(s)
	}
	tmp, err := os.MkdirTemp(dataDir, ".extract-"+p.Hash()+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	r, verify, closer, err := p.reader()
	if err != nil {
		return err
	}
	defer closer.Close()
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxWindow))
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	defer zr.Close()
	manifest, err := untar(zr, tmp)
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Errorf("payload: %w", err) // writing (a full disk, say), not reading
	}
	if err != nil {
		return fmt.Errorf("payload in %s is corrupt: %w", p.path, err)
	}
	// Drain what the tar reader did not need, so the hash covers every byte.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if err := verify(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, manifestName), []byte(manifest), 0o644); err != nil {
		return err
	}
	// Flush the tree before it takes its final name: after a power cut a
	// directory in place must hold whole files, not sizes without data.
	if err := syncFS(tmp); err != nil {
		return err
	}
	_ = os.RemoveAll(dir) // an earlier, incomplete extraction (we hold the lock)
	return os.Rename(tmp, dir)
}

func untar(r io.Reader, dst string) (string, error) {
	var manifest strings.Builder
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return manifest.String(), nil
		}
		if err != nil {
			return "", err
		}
		name := filepath.Clean(h.Name)
		if name == "." || strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			return "", fmt.Errorf("unsafe path %q", h.Name)
		}
		target := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return "", err
			}
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return "", err
			}
			if err := os.Symlink(h.Linkname, target); err != nil {
				return "", err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return "", err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_EXCL, os.FileMode(h.Mode)&0o755)
			if err != nil {
				return "", err
			}
			n, err := io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&manifest, "%d %s\n", n, name)
		default:
			return "", fmt.Errorf("unsupported entry %q", h.Name)
		}
	}
}

// checkManifest verifies that every file of a previous extraction is there
// with its size.
func checkManifest(dir string) error {
	f, err := os.Open(filepath.Join(dir, manifestName))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		size, name, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("bad manifest line %q", sc.Text())
		}
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if fi.Size() != n {
			return fmt.Errorf("%s: size %d, want %d", name, fi.Size(), n)
		}
	}
	return sc.Err()
}

func syncFS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// switchLink points dataDir/current at target (and dataDir/previous at the
// old target) with an atomic rename.
func switchLink(dataDir, target string) error {
	current := filepath.Join(dataDir, "current")
	old, err := os.Readlink(current)
	if err == nil && old == target {
		return nil
	}
	if err == nil {
		_ = replaceLink(filepath.Join(dataDir, "previous"), old)
	}
	return replaceLink(current, target)
}

func replaceLink(path, target string) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
