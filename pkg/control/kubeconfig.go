// SPDX-License-Identifier: Apache-2.0

package control

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wren-k8s/wren/pkg/kubeconfig"
	"github.com/wren-k8s/wren/pkg/pki"
)

// writeComponentKubeconfig writes <credDir>/<name>.kubeconfig for a client
// identity, referring to the certificate files by path.
func writeComponentKubeconfig(credDir, name, url string, certs pki.Paths, client string) (string, error) {
	path := filepath.Join(credDir, name+".kubeconfig")
	cert, key := certs.Client(client)
	err := kubeconfig.Write(path, kubeconfig.Spec{Server: url, CAFile: certs.ServerCA(), CertFile: cert, KeyFile: key}, 0o600)
	return path, err
}

// portInUse rewrites a listener error into one naming the setting to change.
func portInUse(err error, setting string, port int) error {
	if err != nil && strings.Contains(err.Error(), "address already in use") {
		return fmt.Errorf("%s: port %d already in use", setting, port)
	}
	return err
}
