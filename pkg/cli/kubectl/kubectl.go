// SPDX-License-Identifier: Apache-2.0

// Package kubectl runs the upstream kubectl bundled in wren, defaulting to
// this node's admin kubeconfig.
package kubectl

import (
	"io"
	"os"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/plugin"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/wren-k8s/wren/pkg/config"
)

// Run runs kubectl with args and returns its exit code. Without $KUBECONFIG
// it uses wren's admin kubeconfig when that exists. Like upstream kubectl,
// some errors end the process from inside kubectl.
func Run(args []string, stdout, stderr io.Writer) int {
	if os.Getenv("KUBECONFIG") == "" {
		if _, err := os.Stat(config.DefaultKubeconfigPath()); err == nil {
			_ = os.Setenv("KUBECONFIG", config.DefaultKubeconfigPath())
		}
	}
	argv := append([]string{"kubectl"}, args...)
	_, _ = logs.GlogSetter(kubectlcmd.GetLogVerbosity(argv))
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: stdout, ErrOut: stderr}
	cmd := kubectlcmd.NewDefaultKubectlCommandWithArgs(kubectlcmd.KubectlOptions{
		PluginHandler: kubectlcmd.NewDefaultPluginHandler(plugin.ValidPluginFilenamePrefixes),
		Arguments:     argv,
		ConfigFlags: genericclioptions.NewConfigFlags(true).WithDeprecatedPasswordFlag().
			WithDiscoveryBurst(300).WithDiscoveryQPS(50.0).WithWarningPrinter(streams),
		IOStreams: streams,
	})
	cmd.SetArgs(args)
	if err := cli.RunNoErrOutput(cmd); err != nil {
		cmdutil.CheckErr(err) // prints like kubectl and exits
		return 1
	}
	return 0
}
