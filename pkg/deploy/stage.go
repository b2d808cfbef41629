// SPDX-License-Identifier: Apache-2.0

// Package deploy is wren's add-on manager: it stages the bundled manifests
// into <data-dir>/server/manifests and applies every manifest in that folder,
// bundled or the user's, with server-side apply; it prunes what a file no
// longer declares and removes what a deleted file created.
//
// The rule for bundled files: wren writes a bundled manifest only when the
// file is missing or still exactly what wren wrote last time. A file the
// user edited is never overwritten; the new bundled version is written next
// to it as <name>.yaml.bundled for comparison. `--disable <add-on>` removes
// the file (and so the add-on); a <name>.yaml.skip file makes wren ignore
// <name>.yaml.
package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// stateFile records the checksum of what wren last wrote for each bundled file.
const stateFile = ".wren-staged.json"

// Stager writes the bundled manifests into the manifests folder.
type Stager struct {
	Dir      string
	Bundled  fs.FS
	Vars     map[string]string
	Disabled map[string]bool
	Log      *slog.Logger
}

// AddonName is the add-on a bundled file belongs to: its stem ("coredns").
func AddonName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// Render fills the %{NAME}% placeholders.
func Render(content string, vars map[string]string) string {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		content = strings.ReplaceAll(content, "%{"+k+"}%", vars[k])
	}
	return content
}

func checksum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Stage writes, updates or removes the bundled files.
func (s *Stager) Stage() error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("manifests dir: %w", err)
	}
	state, err := s.loadState()
	if err != nil {
		return err
	}
	entries, err := fs.ReadDir(s.Bundled, ".")
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		if err := s.stageOne(e.Name(), state); err != nil {
			errs = append(errs, fmt.Errorf("stage %s: %w", e.Name(), err))
		}
	}
	if err := s.saveState(state); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Stager) stageOne(name string, state map[string]string) error {
	target := filepath.Join(s.Dir, name)
	bundledCopy := target + ".bundled"
	if s.Disabled[AddonName(name)] {
		return s.unstage(name, state)
	}
	raw, err := fs.ReadFile(s.Bundled, name)
	if err != nil {
		return err
	}
	rendered := []byte(Render(string(raw), s.Vars))
	current, err := os.ReadFile(target)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case checksum(current) == checksum(rendered):
		state[name] = checksum(rendered)
		_ = os.Remove(bundledCopy)
		return nil
	case state[name] != checksum(current):
		// The user changed the file: keep it, show what wren would write.
		if err := atomicfile.Write(bundledCopy, rendered, 0o644); err != nil {
			return err
		}
		s.Log.Info("kept your edit of a bundled manifest; the bundled version is next to it", "file", target, "bundled", bundledCopy)
		return nil
	}
	if err := atomicfile.Write(target, rendered, 0o644); err != nil {
		return err
	}
	_ = os.Remove(bundledCopy)
	state[name] = checksum(rendered)
	return nil
}

// unstage removes a disabled add-on's file, so the controller removes what
// it created. A file the user edited is kept as <name>.disabled, which is
// not applied, so the edit is not lost.
func (s *Stager) unstage(name string, state map[string]string) error {
	target := filepath.Join(s.Dir, name)
	_ = os.Remove(target + ".bundled")
	current, err := os.ReadFile(target)
	switch {
	case errors.Is(err, os.ErrNotExist):
		delete(state, name)
		return nil
	case err != nil:
		return err
	case state[name] != checksum(current) && !s.isBundled(name, current):
		if err := os.Rename(target, target+".disabled"); err != nil {
			return err
		}
		s.Log.Info("disabled add-on: kept your edited file aside", "file", target+".disabled")
	default:
		if err := os.Remove(target); err != nil {
			return err
		}
		s.Log.Info("removed disabled add-on", "file", target)
	}
	delete(state, name)
	return nil
}

// isBundled reports whether content is the rendered bundled manifest.
func (s *Stager) isBundled(name string, content []byte) bool {
	raw, err := fs.ReadFile(s.Bundled, name)
	return err == nil && checksum([]byte(Render(string(raw), s.Vars))) == checksum(content)
}

func (s *Stager) loadState() (map[string]string, error) {
	state := map[string]string{}
	b, err := os.ReadFile(filepath.Join(s.Dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return state, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &state); err != nil {
		return map[string]string{}, nil // unreadable state: treat every file as the user's
	}
	return state, nil
}

func (s *Stager) saveState(state map[string]string) error {
	b, _ := json.MarshalIndent(state, "", "  ")
	return atomicfile.Write(filepath.Join(s.Dir, stateFile), b, 0o644)
}
