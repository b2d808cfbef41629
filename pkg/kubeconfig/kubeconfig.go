// SPDX-License-Identifier: Apache-2.0

// Package kubeconfig writes kubeconfig files for the admin and for components.
package kubeconfig

import (
	"fmt"
	"os"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
)

// Spec describes one kubeconfig: who talks to which server with which files.
type Spec struct {
	Server   string // https://127.0.0.1:6443
	CAFile   string
	CertFile string
	KeyFile  string
	// Embed copies the CA, certificate and key into the file (for kubeconfigs
	// handed to users); otherwise the file refers to them by path.
	Embed bool
}

// Build returns the kubeconfig for spec, named "default" like k3s's.
func Build(spec Spec) (*clientcmdapi.Config, error) {
	cluster := &clientcmdapi.Cluster{Server: spec.Server, CertificateAuthority: spec.CAFile}
	user := &clientcmdapi.AuthInfo{ClientCertificate: spec.CertFile, ClientKey: spec.KeyFile}
	if spec.Embed {
		var err error
		if cluster.CertificateAuthorityData, err = os.ReadFile(spec.CAFile); err != nil {
			return nil, err
		}
		if user.ClientCertificateData, err = os.ReadFile(spec.CertFile); err != nil {
			return nil, err
		}
		if user.ClientKeyData, err = os.ReadFile(spec.KeyFile); err != nil {
			return nil, err
		}
		cluster.CertificateAuthority, user.ClientCertificate, user.ClientKey = "", "", ""
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["default"] = cluster
	cfg.AuthInfos["default"] = user
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "default", AuthInfo: "default"}
	cfg.CurrentContext = "default"
	return cfg, nil
}

// Write renders spec to path atomically with the given mode.
func Write(path string, spec Spec, mode os.FileMode) error {
	cfg, err := Build(spec)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b, mode); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return nil
}

// Update writes the kubeconfig only if the file's content differs (a
// renewed embedded certificate); it reports whether it wrote.
func Update(path string, spec Spec, mode os.FileMode) (bool, error) {
	cfg, err := Build(spec)
	if err != nil {
		return false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return false, err
	}
	wrote, err := atomicfile.Update(path, b, mode)
	if err != nil {
		return false, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return wrote, nil
}
