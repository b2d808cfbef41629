// SPDX-License-Identifier: Apache-2.0

package control

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wren-k8s/wren/pkg/internal/atomicfile"
	"github.com/wren-k8s/wren/pkg/internal/cliargs"
)

// defaultAuditPolicy records who did what to which object (Metadata) for
// every request, but never the bodies (Secrets, tokens), and leaves out the
// high-volume reads the node's own components make.
const defaultAuditPolicy = `# Written by wren because --kube-apiserver-arg audit-log-path was given
# without audit-policy-file. wren keeps your edits: it writes this file only
# when it is missing.
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # Health checks and the node components' own watches and reads.
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version", "/openapi*"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
  - level: None
    userGroups: ["system:nodes"]
    verbs: ["get", "list", "watch"]
  - level: None
    resources:
      - group: ""
        resources: ["events"]
      - group: "events.k8s.io"
        resources: ["events"]
      - group: "coordination.k8s.io"
        resources: ["leases"]
    verbs: ["get", "list", "watch", "update", "patch", "create"]
  # Everything else: who, what, when, the answer's code; never a body.
  - level: Metadata
`

// auditDefaults are the rotation limits wren sets when audit logging is on
// and the user did not set them (days, files, MB: the CIS benchmark's values).
var auditDefaults = map[string]string{"audit-log-maxage": "30", "audit-log-maxbackup": "10", "audit-log-maxsize": "100"}

// auditArgs adds the audit flags wren fills in when the user turned audit
// logging on (audit-log-path or audit-webhook-config-file in extra): the
// default policy, written to policyFile if missing, and log rotation.
func auditArgs(args map[string]string, extra []string, policyFile string) error {
	given := map[string]bool{}
	for _, e := range extra {
		name, _ := cliargs.NameValue(e)
		given[name] = true
	}
	if !given["audit-log-path"] && !given["audit-webhook-config-file"] {
		return nil
	}
	if given["audit-log-path"] {
		for k, v := range auditDefaults {
			args[k] = v
		}
	}
	if given["audit-policy-file"] {
		return nil
	}
	if policyFile == "" {
		return errors.New("--kube-apiserver-arg audit-log-path: give audit-policy-file too")
	}
	if _, err := os.Stat(policyFile); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(policyFile), 0o700); err != nil {
			return err
		}
		if err := atomicfile.Write(policyFile, []byte(defaultAuditPolicy), 0o600); err != nil {
			return fmt.Errorf("audit policy %s: %w", policyFile, err)
		}
	} else if err != nil {
		return fmt.Errorf("audit policy %s: %w", policyFile, err)
	}
	args["audit-policy-file"] = policyFile
	return nil
}
