// SPDX-License-Identifier: Apache-2.0

//go:build !wren_crictl

package tools

import "errors"

// runCrictl: binaries built by plain `go build` leave crictl out.
func runCrictl([]string) error {
	return errors.New("this wren was built without crictl: build it with make build")
}
