// SPDX-License-Identifier: Apache-2.0

package registries

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// WriteHostsDir makes dir hold exactly files (directory name → hosts.toml)
// among the directories wren wrote: each file is replaced atomically, and a
// directory whose hosts.toml wren wrote before but registries.yaml no longer
// names is removed. Directories a user made (no wren header) are left alone.
func WriteHostsDir(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, keep := files[e.Name()]; keep || !e.IsDir() {
			continue
		}
		hosts := filepath.Join(dir, e.Name(), "hosts.toml")
		data, err := os.ReadFile(hosts)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if bytes.HasPrefix(data, []byte(Header)) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(dir, name, "hosts.toml"), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
