// SPDX-License-Identifier: Apache-2.0

package control

import (
	"errors"
	"time"

	encryptionconfigcontroller "k8s.io/apiserver/pkg/server/options/encryptionconfig/controller"
	"k8s.io/component-base/metrics/legacyregistry"
)

// encryptionReloadPeriod is how often the apiserver looks for a changed
// encryption configuration file.
const encryptionReloadPeriod = 5 * time.Second

// pollEncryptionConfig sets how often the apiserver re-reads the file.
func pollEncryptionConfig() {
	// NOTE: upstream polls the file once a minute, a long wait for each step
	// of a key rotation; the read and hash of a small file every few seconds
	// costs nothing. The variable is exported for exactly this, and read
	// when the apiserver starts its reload controller.
	encryptionconfigcontroller.EncryptionConfigFileChangePollDuration = encryptionReloadPeriod
}

// encryptionConfigInfo is the apiserver's metric that names, in its hash
// label, the encryption configuration it runs with.
const encryptionConfigInfo = "apiserver_encryption_config_controller_last_config_info"

// EncryptionConfigHash returns the hash ("sha256:<hex>" of the file's
// content) of the encryption configuration the in-process apiserver uses.
func EncryptionConfigHash() (string, error) {
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		return "", err
	}
	for _, f := range families {
		if f.GetName() != encryptionConfigInfo {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "hash" {
					return l.GetValue(), nil
				}
			}
		}
	}
	return "", errors.New("the apiserver runs no encryption configuration")
}
