// SPDX-License-Identifier: Apache-2.0

// Package launcher is the front of the wren binary a user downloads. That
// file is a small program with the whole release appended, zstd-compressed:
// the wren program itself, runc, the containerd shim, the CNI plugins,
// crictl and the images. The launcher extracts the release once into
// <data-dir>/data/<hash>/ and then executes bin/wren from there with the
// same arguments, so every later start costs a few file checks.
package launcher

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/wren-k8s/wren/pkg/cli/flagsource"
	"github.com/wren-k8s/wren/pkg/internal/datadir"
	"github.com/wren-k8s/wren/pkg/payload"
)

// Run extracts the release carried by the binary at self (unless it is in
// place) and executes its wren program with args and env. It returns only
// on failure.
func Run(self string, args, env []string) error {
	p, err := payload.Open(self)
	if err != nil {
		return err
	}
	dataDir, err := DataDir(args, os.LookupEnv)
	if err != nil {
		return err
	}
	if err := datadir.Prepare(dataDir); err != nil {
		return err
	}
	dir, err := p.Extract(filepath.Join(dataDir, "data"))
	if err != nil {
		return fmt.Errorf("extract the release into %s: %w", filepath.Join(dataDir, "data"), err)
	}
	program := filepath.Join(dir, "bin", "wren")
	return syscall.Exec(program, args, env)
}

// tools are the commands that do not take --data-dir: they run from the
// default data directory (or $WREN_DATA_DIR).
var tools = map[string]bool{"kubectl": true, "crictl": true, "ctr": true, "containerd": true}

// DataDir finds the data directory the wren command in args will use, with
// wren's own precedence: --data-dir, then $WREN_DATA_DIR, then the config
// files (server and agent read them), then the default. It must agree with
// pkg/cli; TestDataDirAgreesWithTheCommands holds them together. Arguments
// it does not know are left to wren to judge.
func DataDir(args []string, lookupEnv func(string) (string, bool)) (string, error) {
	sub := ""
	if len(args) > 0 && tools[filepath.Base(args[0])] {
		sub = filepath.Base(args[0])
	}
	var rest []string
	if sub == "" {
		for i, a := range args[1:] {
			if len(a) > 0 && a[0] != '-' {
				sub, rest = a, args[i+2:]
				break
			}
		}
	}
	fs := pflag.NewFlagSet("wren", pflag.ContinueOnError)
	fs.ParseErrorsAllowlist.UnknownFlags = true
	fs.Usage = func() {}
	dir := fs.StringP("data-dir", "d", "", "")
	config := fs.StringP("config", "c", "", "")
	if !tools[sub] {
		_ = fs.Parse(rest) // wren reports bad arguments itself
	}
	if *dir != "" {
		return filepath.Abs(*dir)
	}
	if v, ok := lookupEnv("WREN_DATA_DIR"); ok && v != "" {
		return filepath.Abs(v)
	}
	if sub == "server" || sub == "agent" {
		main, required := datadir.ConfigFile, fs.Changed("config")
		if required {
			main = *config
		} else if v, ok := lookupEnv("WREN_CONFIG_FILE"); ok && v != "" {
			main, required = v, true
		}
		files, err := flagsource.ConfigFiles(main, required)
		if err != nil {
			return "", err
		}
		v, ok, err := flagsource.Lookup(files, "data-dir")
		if err != nil {
			return "", err
		}
		if ok && v != "" {
			return filepath.Abs(v)
		}
	}
	return datadir.Default(), nil
}
