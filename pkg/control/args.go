// SPDX-License-Identifier: Apache-2.0

// Package control runs kube-apiserver, kube-controller-manager and
// kube-scheduler in-process, each as a component, through their upstream
// option structs (not their cobra commands, which install signal handlers).
package control

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	cmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	cmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	schedoptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"

	"github.com/wren-k8s/wren/pkg/internal/cliargs"
)

// parseInto parses args into an upstream component's named flag sets.
func parseInto(component string, sets cliflag.NamedFlagSets, args []string) error {
	fs := pflag.NewFlagSet(component, pflag.ContinueOnError)
	fs.SetOutput(discard{})
	for _, name := range sets.Order {
		fs.AddFlagSet(sets.FlagSets[name])
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s flags: %w", component, err)
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// ValidateExtraArgs parses the user's --kube-*-arg flags into fresh upstream
// option sets, so an unknown or malformed flag is reported before anything starts.
func ValidateExtraArgs(apiserver, controllerManager, scheduler []string) error {
	var errs []error
	if len(apiserver) > 0 {
		errs = append(errs, parseInto("kube-apiserver", apiserveroptions.NewServerRunOptions().Flags(), cliargs.Render(nil, apiserver)))
	}
	if len(controllerManager) > 0 {
		s, err := cmoptions.NewKubeControllerManagerOptions()
		if err != nil {
			return err
		}
		sets := s.Flags(cmapp.KnownControllers(), cmapp.ControllersDisabledByDefault(), cmapp.ControllerAliases())
		errs = append(errs, parseInto("kube-controller-manager", sets, cliargs.Render(nil, controllerManager)))
	}
	if len(scheduler) > 0 {
		errs = append(errs, parseInto("kube-scheduler", *schedoptions.NewOptions().Flags, cliargs.Render(nil, scheduler)))
	}
	return errors.Join(errs...)
}
