// SPDX-License-Identifier: Apache-2.0

package certificate

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/wren-k8s/wren/pkg/config"
	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/pki"
	"github.com/wren-k8s/wren/pkg/token"
)

func rotateCACommand(stdout io.Writer) *cobra.Command {
	dataDir := config.DefaultDataDir()
	var from string
	cmd := &cobra.Command{
		Use:   "rotate-ca",
		Short: "Replace the server's CAs (new ones, or those in --path) while the cluster runs: old and new are both trusted until the next rotate-ca",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			serverTLS, err := serverTLSDir(dataDir)
			if err != nil {
				return err
			}
			paths := pki.Paths{Dir: serverTLS}
			now := time.Now()
			if err := pki.RotateCA(paths, from, now); err != nil {
				return err
			}
			agentTLS := filepath.Join(dataDir, "agent", "tls")
			files, err := pki.RotateLeaves(paths, now, serverTLS, agentTLS)
			if err != nil {
				return err
			}
			if err := copyBundles(paths, agentTLS); err != nil {
				return err
			}
			serverDir := filepath.Join(dataDir, "server")
			if err := token.Repin(paths.ServerCA(), filepath.Join(serverDir, "token"), filepath.Join(serverDir, "agent-token")); err != nil {
				return err
			}
			ca, err := pki.LoadCA(paths.ServerCA(), paths.ServerCAKey(), now)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "rotated the server, client and request-header CAs: now %s\n", ca.Cert.Subject.CommonName)
			fmt.Fprintf(stdout, "renewed %d certificates; agents fetch the new CA bundle within %s\n", len(files), pki.RenewInterval())
			fmt.Fprintln(stdout, "the previous CAs stay trusted until the next rotate-ca; join tokens made before work until then too")
			if b, err := os.ReadFile(filepath.Join(serverDir, "token")); err == nil {
				fmt.Fprintf(stdout, "server token: %s", b)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&dataDir, "data-dir", "d", dataDir, "Data directory of the server")
	cmd.Flags().StringVar(&from, "path", "", "Directory with the new CAs (server-ca.crt/.key, client-ca.crt/.key, request-header-ca.crt/.key); default: generate them")
	return cmd
}

// serverTLSDir is the tls directory of a server's data dir; an agent's has
// no CA keys.
func serverTLSDir(dataDir string) (string, error) {
	serverTLS := filepath.Join(dataDir, "server", "tls")
	if _, err := os.Stat(pki.Paths{Dir: serverTLS}.ServerCAKey()); err != nil {
		return "", fmt.Errorf("--data-dir %s: no server CA key under %s: run this on the server (an agent renews its certificates from its server)", dataDir, serverTLS)
	}
	return serverTLS, nil
}

// copyBundles gives the server's own node the new bundles at once (it would
// fetch them within the renew interval otherwise).
func copyBundles(paths pki.Paths, agentTLS string) error {
	for src, name := range map[string]string{paths.ServerCA(): "server-ca.crt", paths.ClientCA(): "client-ca.crt"} {
		dst := filepath.Join(agentTLS, name)
		if _, err := os.Stat(dst); os.IsNotExist(err) {
			continue // no node on this server
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if _, err := atomicfile.Update(dst, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
