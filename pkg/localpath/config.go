// SPDX-License-Identifier: Apache-2.0

package localpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// defaultNode is the nodePathMap entry for nodes not listed by name.
const defaultNode = "DEFAULT_PATH_FOR_NON_LISTED_NODES"

// defaultCmdTimeout is how long a helper pod may take, in seconds.
const defaultCmdTimeout = 120

// configJSON is config.json in the local-path-config ConfigMap, with
// rancher/local-path-provisioner's field names.
type configJSON struct {
	classJSON
	StorageClassConfigs map[string]classJSON `json:"storageClassConfigs"`
	SetupCommand        string               `json:"setupCommand"`
	TeardownCommand     string               `json:"teardownCommand"`
	CmdTimeoutSeconds   int                  `json:"cmdTimeoutSeconds"`
}

type classJSON struct {
	NodePathMap          []nodePathsJSON `json:"nodePathMap"`
	SharedFileSystemPath string          `json:"sharedFileSystemPath"`
}

type nodePathsJSON struct {
	Node  string   `json:"node"`
	Paths []string `json:"paths"`
}

// Config is a checked config.json.
type Config struct {
	// classes by StorageClass name; "" stands for every class when
	// storageClassConfigs is empty.
	classes         map[string]classConfig
	SetupCommand    string
	TeardownCommand string
	CmdTimeout      int // seconds
}

type classConfig struct {
	nodePaths map[string][]string // node → sorted, cleaned paths
	shared    string
}

// ParseConfig reads and checks config.json. Unlike upstream it refuses a
// bad file as a whole (an empty or relative path, a node listed twice, both
// or neither of nodePathMap and sharedFileSystemPath), naming the problem.
func ParseConfig(data []byte) (*Config, error) {
	var raw configJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	c := &Config{classes: map[string]classConfig{}, SetupCommand: raw.SetupCommand,
		TeardownCommand: raw.TeardownCommand, CmdTimeout: raw.CmdTimeoutSeconds}
	if c.CmdTimeout <= 0 {
		c.CmdTimeout = defaultCmdTimeout
	}
	classes := raw.StorageClassConfigs
	if len(classes) == 0 {
		classes = map[string]classJSON{"": raw.classJSON}
	}
	var errs []error
	for name, cj := range classes {
		cc, err := checkClass(cj)
		if err != nil {
			where := "config.json"
			if name != "" {
				where = fmt.Sprintf("config.json: storageClassConfigs[%q]", name)
			}
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		c.classes[name] = cc
	}
	return c, errors.Join(errs...)
}

func checkClass(cj classJSON) (classConfig, error) {
	cc := classConfig{nodePaths: map[string][]string{}}
	switch {
	case cj.SharedFileSystemPath != "" && len(cj.NodePathMap) > 0:
		return cc, errors.New("set nodePathMap or sharedFileSystemPath, not both")
	case cj.SharedFileSystemPath != "":
		p, err := checkPath(cj.SharedFileSystemPath)
		cc.shared = p
		return cc, err
	case len(cj.NodePathMap) == 0:
		return cc, errors.New("set nodePathMap or sharedFileSystemPath")
	}
	for _, np := range cj.NodePathMap {
		if _, dup := cc.nodePaths[np.Node]; dup {
			return cc, fmt.Errorf("node %q is listed twice", np.Node)
		}
		seen := map[string]bool{}
		paths := []string{}
		for _, p := range np.Paths {
			clean, err := checkPath(p)
			if err != nil {
				return cc, fmt.Errorf("node %q: %w", np.Node, err)
			}
			if seen[clean] {
				return cc, fmt.Errorf("node %q: path %s is listed twice", np.Node, clean)
			}
			seen[clean] = true
			paths = append(paths, clean)
		}
		sort.Strings(paths)
		cc.nodePaths[np.Node] = paths
	}
	return cc, nil
}

func checkPath(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is not absolute", p)
	}
	clean := filepath.Clean(p)
	if clean == "/" {
		return "", errors.New("path / is not allowed")
	}
	return clean, nil
}

// class returns the settings for a StorageClass.
func (c *Config) class(name string) (classConfig, error) {
	if cc, ok := c.classes[""]; ok {
		return cc, nil
	}
	cc, ok := c.classes[name]
	if !ok {
		return cc, fmt.Errorf("storage class %q is not in config.json's storageClassConfigs", name)
	}
	return cc, nil
}

// basePath picks the directory that holds a node's volumes: the one the
// StorageClass parameter nodePath names, else the node's first (sorted).
func (cc classConfig) basePath(node, wanted string) (string, error) {
	if cc.shared != "" {
		return cc.shared, nil
	}
	paths, ok := cc.nodePaths[node]
	if !ok {
		if paths, ok = cc.nodePaths[defaultNode]; !ok {
			return "", fmt.Errorf("config.json has no paths for node %s and no %s entry", node, defaultNode)
		}
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("config.json lists no paths for node %s", node)
	}
	if wanted == "" {
		return paths[0], nil
	}
	clean := filepath.Clean(wanted)
	for _, p := range paths {
		if p == clean {
			return p, nil
		}
	}
	return "", fmt.Errorf("nodePath %s is not a path of node %s in config.json", wanted, node)
}

// volumeDir is the volume's directory under base: <pv>_<namespace>_<claim>,
// or the StorageClass's pathPattern (a Go template over .PVName and .PVC).
func volumeDir(base, pattern, pvName string, pvc *corev1.PersistentVolumeClaim) (string, error) {
	name := strings.Join([]string{pvName, pvc.Namespace, pvc.Name}, "_")
	if pattern != "" {
		t, err := template.New("pathPattern").Option("missingkey=error").Parse(pattern)
		if err != nil {
			return "", fmt.Errorf("pathPattern: %w", err)
		}
		var b strings.Builder
		if err := t.Execute(&b, struct {
			PVName string
			PVC    metav1.ObjectMeta
		}{pvName, pvc.ObjectMeta}); err != nil {
			return "", fmt.Errorf("pathPattern: %w", err)
		}
		name = b.String()
	}
	dir := filepath.Join(base, name)
	if rel, err := filepath.Rel(base, dir); err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("pathPattern: %q leaves %s", name, base)
	}
	return dir, nil
}
