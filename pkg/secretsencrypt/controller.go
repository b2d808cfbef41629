// SPDX-License-Identifier: Apache-2.0

package secretsencrypt

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/wren-k8s/wren/pkg/component"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// Rotation stages, k3s's names.
const (
	StageStart             = "start"
	StagePrepare           = "prepare"
	StageRotate            = "rotate"
	StageReencryptRequest  = "reencrypt_request"
	StageReencryptActive   = "reencrypt_active"
	StageReencryptFinished = "reencrypt_finished"
)

// Commands the controller runs (`wren secrets-encrypt <command>`).
const (
	CmdEnable     = "enable"
	CmdDisable    = "disable"
	CmdPrepare    = "prepare"
	CmdRotate     = "rotate"
	CmdReencrypt  = "reencrypt"
	CmdRotateKeys = "rotate-keys"
)

// Commands lists them.
var Commands = []string{CmdEnable, CmdDisable, CmdPrepare, CmdRotate, CmdReencrypt, CmdRotateKeys}

// ErrNotConfigured means the server runs without an encryption configuration.
var ErrNotConfigured = errors.New("secrets encryption is not configured on this server: start it with --secrets-encryption")

// Config is what the controller needs.
type Config struct {
	// ConfigFile is the apiserver's --encryption-provider-config.
	ConfigFile string
	// StateFile keeps the rotation stage.
	StateFile string
	// Enable is --secrets-encryption: create the configuration if missing.
	Enable bool
	// Provider is the type of new keys (aescbc or secretbox).
	Provider string
	// Client reaches the API with rights to rewrite every Secret.
	Client func() (kubernetes.Interface, error)
	// Loaded returns the hash ("sha256:<hex>") of the configuration file
	// content the apiserver encrypts with now.
	Loaded func() (string, error)
	// ReloadTimeout bounds the wait for the apiserver to load a new file.
	ReloadTimeout time.Duration
	Log           *slog.Logger
}

// Status is what `wren secrets-encrypt status` shows.
type Status struct {
	// Configured means the configuration file exists (the apiserver uses it).
	Configured bool   `json:"configured"`
	Enabled    bool   `json:"enabled"`
	Stage      string `json:"stage"`
	// Keys lists the keys (without their secrets); ActiveKey encrypts writes.
	Keys      []Key  `json:"keys,omitempty"`
	ActiveKey string `json:"activeKey,omitempty"`
	// FileHash is the file's hash, LoadedHash the one the apiserver runs with.
	FileHash    string `json:"fileHash,omitempty"`
	LoadedHash  string `json:"loadedHash,omitempty"`
	LastError   string `json:"lastError,omitempty"`
	Reencrypted int    `json:"reencrypted,omitempty"`
}

// state is the StateFile's content.
type state struct {
	Stage       string    `json:"stage"`
	LastError   string    `json:"lastError,omitempty"`
	Reencrypted int       `json:"reencrypted,omitempty"`
	Updated     time.Time `json:"updated"`
}

// Controller owns the encryption configuration: it writes it before the
// apiserver starts, runs the rotation commands, and rewrites every Secret
// (resuming after a restart) when asked to re-encrypt.
type Controller struct {
	cfg Config
	// mu serializes changes to the files.
	mu   sync.Mutex
	wake chan struct{}
	now  func() time.Time
	component.Task
}

var (
	_ component.Component = (*Controller)(nil)
	_ component.Exiter    = (*Controller)(nil)
)

// New returns the controller.
func New(cfg Config) *Controller {
	if cfg.ReloadTimeout == 0 {
		cfg.ReloadTimeout = time.Minute
	}
	return &Controller{cfg: cfg, wake: make(chan struct{}, 1), now: time.Now}
}

// Name implements component.Component.
func (c *Controller) Name() string { return "secrets-encryption" }

// Configured reports whether the apiserver must be given the configuration
// file: asked for, or turned on before (its keys are needed to read Secrets
// even if the flag was dropped since).
func Configured(configFile string, enable bool) bool {
	if enable {
		return true
	}
	_, err := os.Stat(configFile)
	return err == nil
}

// Start writes the configuration on first use and checks an existing one.
func (c *Controller) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := os.ReadFile(c.cfg.ConfigFile)
	switch {
	case err == nil:
		if _, err := ParseKeys(b); err != nil {
			return fmt.Errorf("encryption config %s: %w", c.cfg.ConfigFile, err)
		}
		if !c.cfg.Enable {
			c.cfg.Log.Info("secrets encryption was turned on before: keeping its configuration (turn it off with `wren secrets-encrypt disable` and `reencrypt`)", "file", c.cfg.ConfigFile)
		}
	case errors.Is(err, os.ErrNotExist):
		if !c.cfg.Enable {
			break
		}
		key, err := NewKey(c.cfg.Provider, nil, c.now())
		if err != nil {
			return err
		}
		if _, err := c.write(Keys{Enabled: true, Keys: []Key{key}}); err != nil {
			return err
		}
		c.cfg.Log.Info("secrets encryption turned on", "provider", key.Provider, "key", key.Name)
	default:
		return fmt.Errorf("encryption config: %w", err)
	}
	if _, err := os.Stat(c.cfg.StateFile); errors.Is(err, os.ErrNotExist) {
		if err := c.saveState(state{Stage: StageStart}); err != nil {
			return err
		}
	} else if _, err := c.loadState(); err != nil {
		return err
	}
	c.Go(ctx, c.run)
	return nil
}

// Ready implements component.Component.
func (c *Controller) Ready(context.Context) error { return nil }

// Status reads the files and asks the apiserver which configuration it runs.
func (c *Controller) Status() (Status, error) {
	b, err := os.ReadFile(c.cfg.ConfigFile)
	if errors.Is(err, os.ErrNotExist) {
		return Status{Stage: StageStart}, nil
	}
	if err != nil {
		return Status{}, err
	}
	keys, err := ParseKeys(b)
	if err != nil {
		return Status{}, fmt.Errorf("encryption config %s: %w", c.cfg.ConfigFile, err)
	}
	st, err := c.loadState()
	if err != nil {
		return Status{}, err
	}
	out := Status{Configured: true, Enabled: keys.Enabled, Stage: st.Stage, Keys: keys.Keys, FileHash: hashOf(b),
		LastError: st.LastError, Reencrypted: st.Reencrypted}
	if k, ok := keys.Active(); ok {
		out.ActiveKey = k.Name
	}
	if out.LoadedHash, err = c.cfg.Loaded(); err != nil {
		return Status{}, err
	}
	return out, nil
}

// Do runs one command. Changes of keys return once the apiserver uses them;
// reencrypt and rotate-keys return once the re-encryption is under way.
func (c *Controller) Do(ctx context.Context, cmd string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := os.ReadFile(c.cfg.ConfigFile)
	if errors.Is(err, os.ErrNotExist) {
		return ErrNotConfigured
	}
	if err != nil {
		return err
	}
	keys, err := ParseKeys(b)
	if err != nil {
		return fmt.Errorf("encryption config %s: %w", c.cfg.ConfigFile, err)
	}
	st, err := c.loadState()
	if err != nil {
		return err
	}
	idle := st.Stage == StageStart || st.Stage == StageReencryptFinished
	next := st.Stage
	switch cmd {
	case CmdPrepare:
		if !idle {
			return stageError(cmd, st.Stage, "finish the rotation under way first")
		}
		key, err := NewKey(c.cfg.Provider, keys.Keys, c.now())
		if err != nil {
			return err
		}
		// Known to the apiserver for reading, not yet for writing.
		keys.Keys = slices.Insert(keys.Keys, min(1, len(keys.Keys)), key)
		next = StagePrepare
	case CmdRotate:
		if st.Stage != StagePrepare || len(keys.Keys) < 2 {
			return stageError(cmd, st.Stage, "run prepare first")
		}
		keys.Keys[0], keys.Keys[1] = keys.Keys[1], keys.Keys[0]
		next = StageRotate
	case CmdReencrypt:
		if !idle && st.Stage != StageRotate {
			return stageError(cmd, st.Stage, "run rotate first, or wait for the re-encryption under way")
		}
		return c.request(st)
	case CmdEnable, CmdDisable:
		if !idle {
			return stageError(cmd, st.Stage, "finish the rotation under way first")
		}
		if keys.Enabled == (cmd == CmdEnable) {
			return fmt.Errorf("secrets encryption is already %sd", cmd)
		}
		keys.Enabled = cmd == CmdEnable
		if keys.Enabled && len(keys.Keys) == 0 {
			key, err := NewKey(c.cfg.Provider, nil, c.now())
			if err != nil {
				return err
			}
			keys.Keys = []Key{key}
		}
	case CmdRotateKeys:
		if !idle {
			return stageError(cmd, st.Stage, "finish the rotation under way first")
		}
		if !keys.Enabled {
			return errors.New("rotate-keys: secrets encryption is disabled: enable it first")
		}
		key, err := NewKey(c.cfg.Provider, keys.Keys, c.now())
		if err != nil {
			return err
		}
		keys.Keys = slices.Insert(keys.Keys, 0, key)
	default:
		return fmt.Errorf("unknown command %q: want one of %v", cmd, Commands)
	}
	if err := c.apply(ctx, b, keys); err != nil {
		return err
	}
	st.Stage, st.LastError = next, ""
	if cmd == CmdRotateKeys {
		return c.request(st)
	}
	return c.saveState(st)
}

func stageError(cmd, stage, hint string) error {
	return fmt.Errorf("%s: not allowed in stage %s: %s", cmd, stage, hint)
}

// request records a re-encryption request and wakes the worker.
func (c *Controller) request(st state) error {
	st.Stage, st.LastError, st.Reencrypted = StageReencryptRequest, "", 0
	if err := c.saveState(st); err != nil {
		return err
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// apply writes keys and waits until the apiserver uses them; on failure the
// previous file (old) is put back.
func (c *Controller) apply(ctx context.Context, old []byte, keys Keys) error {
	b, err := c.write(keys)
	if err != nil {
		return err
	}
	if err := c.waitLoaded(ctx, hashOf(b)); err != nil {
		if werr := atomicfile.Write(c.cfg.ConfigFile, old, 0o600); werr != nil {
			return errors.Join(err, werr)
		}
		return err
	}
	return nil
}

// write stores keys as the configuration file and returns its content.
func (c *Controller) write(keys Keys) ([]byte, error) {
	b, err := keys.Marshal()
	if err != nil {
		return nil, err
	}
	return b, atomicfile.Write(c.cfg.ConfigFile, b, 0o600)
}

// waitLoaded polls until the apiserver runs the configuration with hash want.
func (c *Controller) waitLoaded(ctx context.Context, want string) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ReloadTimeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := c.cfg.Loaded()
		if err == nil && got == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the apiserver did not load the new encryption config %s within %s (it runs %s): nothing changed", c.cfg.ConfigFile, c.cfg.ReloadTimeout, got)
		case <-tick.C:
		}
	}
}

func (c *Controller) loadState() (state, error) {
	b, err := os.ReadFile(c.cfg.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return state{Stage: StageStart}, nil
	}
	if err != nil {
		return state{}, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil || st.Stage == "" {
		return state{}, fmt.Errorf("encryption state %s: not a state file (%v)", c.cfg.StateFile, err)
	}
	return st, nil
}

func (c *Controller) saveState(st state) error {
	st.Updated = c.now().UTC()
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return atomicfile.Write(c.cfg.StateFile, append(b, '\n'), 0o600)
}

// hashOf is the apiserver's hash of a configuration file's content.
func hashOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }
