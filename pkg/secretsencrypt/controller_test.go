// SPDX-License-Identifier: Apache-2.0

package secretsencrypt

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newController returns a controller whose "apiserver" loads a file as soon
// as asked (loads reports the hash it runs); frozen makes it stop loading.
func newController(t *testing.T, enable bool) (c *Controller, frozen *bool) {
	t.Helper()
	dir := t.TempDir()
	frozen = new(bool)
	var loaded string
	cfg := Config{
		ConfigFile: filepath.Join(dir, "encryption-config.json"),
		StateFile:  filepath.Join(dir, "encryption-state.json"),
		Enable:     enable,
		Provider:   ProviderAESCBC,
		Loaded: func() (string, error) {
			if !*frozen {
				if b, err := os.ReadFile(filepath.Join(dir, "encryption-config.json")); err == nil {
					loaded = hashOf(b)
				}
			}
			return loaded, nil
		},
		ReloadTimeout: 300 * time.Millisecond,
		Log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	c = New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = c.Stop(context.Background()) })
	return c, frozen
}

func status(t *testing.T, c *Controller) Status {
	t.Helper()
	st, err := c.Status()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStagesInOrder(t *testing.T) {
	c, _ := newController(t, true)
	ctx := context.Background()
	st := status(t, c)
	if !st.Configured || !st.Enabled || st.Stage != StageStart || st.ActiveKey != "aescbckey" || st.FileHash != st.LoadedHash {
		t.Fatalf("after first start: %+v", st)
	}
	for _, cmd := range []string{CmdRotate, CmdEnable} {
		if err := c.Do(ctx, cmd); err == nil {
			t.Errorf("%s in stage start was accepted", cmd)
		}
	}
	if err := c.Do(ctx, CmdPrepare); err != nil {
		t.Fatal(err)
	}
	st = status(t, c)
	if st.Stage != StagePrepare || len(st.Keys) != 2 || st.ActiveKey != "aescbckey" {
		t.Fatalf("after prepare: %+v", st)
	}
	if err := c.Do(ctx, CmdPrepare); err == nil || !strings.Contains(err.Error(), "stage prepare") {
		t.Errorf("second prepare: %v", err)
	}
	if err := c.Do(ctx, CmdRotate); err != nil {
		t.Fatal(err)
	}
	st = status(t, c)
	if st.Stage != StageRotate || st.ActiveKey != st.Keys[0].Name || st.ActiveKey == "aescbckey" {
		t.Fatalf("after rotate: %+v", st)
	}
	if err := c.Do(ctx, "explode"); err == nil {
		t.Error("an unknown command was accepted")
	}
	// The secrets never leave the file.
	b, _ := os.ReadFile(c.cfg.StateFile)
	if bytes.Contains(b, []byte("secret")) {
		t.Errorf("state file holds key material: %s", b)
	}
}

func TestFailedReloadPutsTheOldFileBack(t *testing.T) {
	c, frozen := newController(t, true)
	before, _ := os.ReadFile(c.cfg.ConfigFile)
	*frozen = true
	err := c.Do(context.Background(), CmdPrepare)
	if err == nil || !strings.Contains(err.Error(), "did not load") {
		t.Fatalf("prepare with an apiserver that does not reload: %v", err)
	}
	after, _ := os.ReadFile(c.cfg.ConfigFile)
	if !bytes.Equal(before, after) {
		t.Error("the configuration file was left changed")
	}
	if st := status(t, c); st.Stage != StageStart {
		t.Errorf("stage moved to %s", st.Stage)
	}
}

func TestNotConfigured(t *testing.T) {
	c, _ := newController(t, false)
	if st := status(t, c); st.Configured {
		t.Fatalf("configured without --secrets-encryption: %+v", st)
	}
	if err := c.Do(context.Background(), CmdEnable); err != ErrNotConfigured {
		t.Errorf("enable without a configuration: %v", err)
	}
	if Configured(c.cfg.ConfigFile, false) {
		t.Error("Configured without a file or the flag")
	}
}

func TestDisableThenEnable(t *testing.T) {
	c, _ := newController(t, true)
	ctx := context.Background()
	if err := c.Do(ctx, CmdDisable); err != nil {
		t.Fatal(err)
	}
	if st := status(t, c); st.Enabled || st.ActiveKey != "" || len(st.Keys) != 1 {
		t.Fatalf("after disable: %+v", st)
	}
	if err := c.Do(ctx, CmdDisable); err == nil {
		t.Error("disable twice was accepted")
	}
	if err := c.Do(ctx, CmdRotateKeys); err == nil {
		t.Error("rotate-keys while disabled was accepted")
	}
	if err := c.Do(ctx, CmdEnable); err != nil {
		t.Fatal(err)
	}
	if st := status(t, c); !st.Enabled || st.ActiveKey != "aescbckey" {
		t.Fatalf("after enable: %+v", st)
	}
	// A corrupt state file is an error naming it, not a silent reset.
	if err := os.WriteFile(c.cfg.StateFile, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(); err == nil || !strings.Contains(err.Error(), c.cfg.StateFile) {
		t.Errorf("corrupt state: %v", err)
	}
}
