// SPDX-License-Identifier: Apache-2.0

package control

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apiserver/pkg/audit/policy"
)

func TestAuditArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "etc", "audit-policy.yaml")

	args := map[string]string{}
	if err := auditArgs(args, []string{"v=2"}, file); err != nil || len(args) != 0 {
		t.Fatalf("audit off: args %v, err %v", args, err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a policy was written with audit logging off")
	}

	if err := auditArgs(args, []string{"audit-log-path=/var/log/audit.log"}, file); err != nil {
		t.Fatal(err)
	}
	if args["audit-policy-file"] != file || args["audit-log-maxage"] != "30" {
		t.Fatalf("audit on: args %v", args)
	}
	p, err := policy.LoadPolicyFromFile(file)
	if err != nil {
		t.Fatalf("the apiserver refuses the default policy: %v", err)
	}
	if n := len(p.Rules); n < 2 || p.Rules[n-1].Level != "Metadata" {
		t.Errorf("default policy rules: %+v", p.Rules)
	}

	// The user's edits are kept, and a user policy is not replaced.
	if err := os.WriteFile(file, []byte("edited"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := auditArgs(map[string]string{}, []string{"audit-log-path=-"}, file); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); string(b) != "edited" {
		t.Errorf("the policy file was rewritten: %q", b)
	}
	args = map[string]string{}
	if err := auditArgs(args, []string{"audit-log-path=-", "audit-policy-file=/mine.yaml"}, file); err != nil {
		t.Fatal(err)
	}
	if _, ok := args["audit-policy-file"]; ok {
		t.Errorf("wren set audit-policy-file over the user's: %v", args)
	}
}
