// SPDX-License-Identifier: Apache-2.0

// Package flagsource fills command-line flags the user did not set from
// WREN_* environment variables and from YAML config files, so that every
// setting has one typed destination and one precedence: flag > env > file >
// default.
package flagsource

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// EnvAnnotation marks a flag with the environment variable that can set it.
const EnvAnnotation = "wren.io/env"

// BindEnv records the environment variable for a flag (shown in help and read by Apply).
func BindEnv(fs *pflag.FlagSet, flag, env string) {
	_ = fs.SetAnnotation(flag, EnvAnnotation, []string{env})
	if f := fs.Lookup(flag); f != nil {
		f.Usage += " [$" + env + "]"
	}
}

// Load fills fs's unset flags from the environment and the config files:
// configFile (the --config flag's value; $WREN_CONFIG_FILE when --config was
// not given) and its .d directory.
func Load(fs *pflag.FlagSet, configFile string) error {
	required := fs.Changed("config")
	if env := os.Getenv("WREN_CONFIG_FILE"); env != "" && !required {
		configFile, required = env, true
	}
	files, err := ConfigFiles(configFile, required)
	if err != nil {
		return err
	}
	return Apply(fs, files)
}

// ConfigFiles returns the main config file followed by the *.yaml files of
// its config.yaml.d directory, in lexical order. A missing main file is
// fine unless required (the user named it).
func ConfigFiles(main string, required bool) ([]string, error) {
	var files []string
	if _, err := os.Stat(main); err == nil {
		files = append(files, main)
	} else if required || !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("config file %s: %w", main, err)
	}
	dropins, _ := filepath.Glob(main + ".d/*.yaml")
	ymls, _ := filepath.Glob(main + ".d/*.yml")
	dropins = append(dropins, ymls...)
	sort.Strings(dropins)
	return append(files, dropins...), nil
}

// Apply sets each flag not set on the command line from its environment
// variable, or else from the config files (later files win; a key ending in
// "+" appends to a list instead of replacing it). Unknown keys are errors.
func Apply(fs *pflag.FlagSet, files []string) error {
	fromFiles, origin, err := readFiles(fs, files)
	if err != nil {
		return err
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		if env := f.Annotations[EnvAnnotation]; len(env) > 0 {
			if v, ok := os.LookupEnv(env[0]); ok && v != "" {
				if err := set(f, v); err != nil {
					errs = append(errs, fmt.Errorf("$%s: %w", env[0], err))
				}
				return
			}
		}
		values, ok := fromFiles[f.Name]
		if !ok {
			return
		}
		for _, v := range values {
			if err := set(f, v); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: key %q: %w", origin[f.Name], f.Name, err))
				return
			}
		}
	})
	return errors.Join(errs...)
}

// set parses v into the flag and marks it set. Unlike FlagSet.Set it keeps
// the value's own error, without pflag's "for --flag" wording.
func set(f *pflag.Flag, v string) error {
	if err := f.Value.Set(v); err != nil {
		return err
	}
	f.Changed = true
	return nil
}

// readFiles merges the files into flag name → values. Scalars keep their
// literal text, so a mode written 0644 stays octal and is not read as a number.
func readFiles(fs *pflag.FlagSet, files []string) (map[string][]string, map[string]string, error) {
	values := map[string][]string{}
	origin := map[string]string{}
	err := eachKey(files, func(file string, keyNode, valueNode *yaml.Node) error {
		name, appendTo := strings.CutSuffix(keyNode.Value, "+")
		f := fs.Lookup(name)
		if f == nil || name == "help" || name == "config" {
			return fmt.Errorf("config file %s: line %d: unknown key %q", file, keyNode.Line, keyNode.Value)
		}
		vs, err := nodeStrings(valueNode, isList(f))
		if err != nil {
			return fmt.Errorf("config file %s: line %d: key %q: %w", file, valueNode.Line, keyNode.Value, err)
		}
		if appendTo {
			values[name] = append(values[name], vs...)
		} else {
			values[name] = vs
		}
		origin[name] = file
		return nil
	})
	return values, origin, err
}

// Lookup returns the value the config files give the plain-valued key name
// (the last file that sets it wins), without checking the other keys.
func Lookup(files []string, name string) (string, bool, error) {
	var value string
	var found bool
	err := eachKey(files, func(file string, keyNode, valueNode *yaml.Node) error {
		if keyNode.Value != name {
			return nil
		}
		vs, err := nodeStrings(valueNode, false)
		if err != nil {
			return fmt.Errorf("config file %s: line %d: key %q: %w", file, valueNode.Line, name, err)
		}
		value, found = vs[0], true
		return nil
	})
	return value, found, err
}

// eachKey parses the files in order and calls fn for every top-level key.
func eachKey(files []string, fn func(file string, key, value *yaml.Node) error) error {
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("config file %s: %w", file, err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("config file %s: %w", file, err)
		}
		if len(doc.Content) == 0 {
			continue // empty file
		}
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			return fmt.Errorf("config file %s: line %d: want a map of flag names to values", file, root.Line)
		}
		for i := 0; i+1 < len(root.Content); i += 2 {
			if err := fn(file, root.Content[i], root.Content[i+1]); err != nil {
				return err
			}
		}
	}
	return nil
}

func isList(f *pflag.Flag) bool {
	return strings.HasSuffix(f.Value.Type(), "Slice") || strings.HasSuffix(f.Value.Type(), "Array")
}

// nodeStrings renders a YAML value as flag values: a list becomes one value
// per item (list flags only), a scalar one value.
func nodeStrings(n *yaml.Node, list bool) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, errors.New("no value")
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		if !list {
			return nil, errors.New("a list is not allowed here")
		}
		out := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return nil, errors.New("list items must be plain values")
			}
			out = append(out, item.Value)
		}
		return out, nil
	default:
		return nil, errors.New("want a plain value or a list")
	}
}
