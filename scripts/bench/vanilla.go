// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wren-k8s/wren/pkg/kubeconfig"
	"github.com/wren-k8s/wren/pkg/pki"
)

// vanilla is the upstream control plane as a user assembling Kubernetes by
// hand runs it: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler as four programs (built by scripts/compare/run.sh from the
// module versions wren links), on loopback, with TLS everywhere and the
// upstream defaults (leader election on, every controller). Certificates and
// kubeconfigs are made before the clock starts, as an installer would.
type vanilla struct {
	bins, dir string
	apiPort   int
	progs     []*program
	wg        sync.WaitGroup
	closing   atomic.Bool
}

func newVanilla(bins string) (*vanilla, error) {
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		if _, err := os.Stat(filepath.Join(bins, b)); err != nil {
			return nil, fmt.Errorf("%w (build them with scripts/compare/run.sh)", err)
		}
	}
	dir, err := os.MkdirTemp("", "wren-compare-")
	if err != nil {
		return nil, err
	}
	v := &vanilla{bins: bins, dir: dir, apiPort: freePort()}
	if err := v.writePKI(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return v, nil
}

func (v *vanilla) path(name string) string { return filepath.Join(v.dir, name) }

// writePKI makes one CA, the serving and client certificates, the
// service-account key and a kubeconfig per client, like kubeadm's phases.
func (v *vanilla) writePKI() error {
	now := time.Now()
	ca, err := pki.LoadOrCreateCA(v.path("ca.crt"), v.path("ca.key"), "vanilla-ca", now)
	if err != nil {
		return err
	}
	loop := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.43.0.1")}
	leaves := map[string]pki.LeafSpec{
		"etcd":               {CommonName: "etcd", DNS: []string{"localhost"}, IPs: loop, Server: true},
		"apiserver":          {CommonName: "kube-apiserver", DNS: []string{"localhost", "kubernetes", "kubernetes.default.svc"}, IPs: loop, Server: true},
		"etcd-client":        {CommonName: "kube-apiserver-etcd-client"},
		"admin":              {CommonName: "admin", Orgs: []string{"system:masters"}},
		"controller-manager": {CommonName: "system:kube-controller-manager"},
		"scheduler":          {CommonName: "system:kube-scheduler"},
	}
	for name, spec := range leaves {
		if _, err := pki.EnsureLeaf(ca, spec, v.path(name+".crt"), v.path(name+".key"), now); err != nil {
			return err
		}
	}
	if err := pki.EnsureRSAKey(v.path("sa.key")); err != nil {
		return err
	}
	for _, name := range []string{"admin", "controller-manager", "scheduler"} {
		spec := kubeconfig.Spec{Server: "https://127.0.0.1:" + strconv.Itoa(v.apiPort),
			CAFile: v.path("ca.crt"), CertFile: v.path(name + ".crt"), KeyFile: v.path(name + ".key")}
		if err := kubeconfig.Write(v.path(name+".kubeconfig"), spec, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (v *vanilla) commands() map[string][]string {
	etcdURL := "https://127.0.0.1:" + strconv.Itoa(freePort())
	peerURL := "http://127.0.0.1:" + strconv.Itoa(freePort())
	port := func() string { return strconv.Itoa(freePort()) }
	kc := func(name string) []string {
		f := v.path(name + ".kubeconfig")
		return []string{"--kubeconfig", f, "--authentication-kubeconfig", f, "--authorization-kubeconfig", f,
			"--bind-address", "127.0.0.1", "--secure-port", port()}
	}
	return map[string][]string{
		"etcd": {"--name", "default", "--data-dir", v.path("etcd-data"),
			"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
			"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
			"--initial-cluster", "default=" + peerURL,
			"--cert-file", v.path("etcd.crt"), "--key-file", v.path("etcd.key"),
			"--client-cert-auth", "--trusted-ca-file", v.path("ca.crt")},
		"kube-apiserver": {"--etcd-servers", etcdURL, "--etcd-cafile", v.path("ca.crt"),
			"--etcd-certfile", v.path("etcd-client.crt"), "--etcd-keyfile", v.path("etcd-client.key"),
			"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", strconv.Itoa(v.apiPort),
			"--tls-cert-file", v.path("apiserver.crt"), "--tls-private-key-file", v.path("apiserver.key"),
			"--client-ca-file", v.path("ca.crt"), "--service-cluster-ip-range", "10.43.0.0/16",
			"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file", v.path("sa.key"), "--service-account-signing-key-file", v.path("sa.key"),
			"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction", "--allow-privileged"},
		"kube-controller-manager": append(kc("controller-manager"),
			"--cluster-signing-cert-file", v.path("ca.crt"), "--cluster-signing-key-file", v.path("ca.key"),
			"--root-ca-file", v.path("ca.crt"), "--service-account-private-key-file", v.path("sa.key"),
			"--use-service-account-credentials", "--controllers", "*,bootstrapsigner,tokencleaner",
			"--allocate-node-cidrs", "--cluster-cidr", "10.42.0.0/16", "--service-cluster-ip-range", "10.43.0.0/16"),
		"kube-scheduler": kc("scheduler"),
	}
}

// start execs the four programs at once, each under a supervisor that
// restarts it a second after it exits (as a service manager's Restart=always
// does: kube-controller-manager exits when it starts before the apiserver's
// RBAC is in place), and returns the time from exec to the apiserver's
// /readyz answering ok.
func (v *vanilla) start() (time.Duration, error) {
	client, err := v.adminClient()
	if err != nil {
		return 0, err
	}
	begin := time.Now()
	for name, args := range v.commands() {
		logf, err := os.Create(v.path(name + ".log"))
		if err != nil {
			return 0, err
		}
		p := &program{path: filepath.Join(v.bins, name), args: args, log: logf}
		if err := p.exec(); err != nil {
			return 0, err
		}
		v.progs = append(v.progs, p)
		v.wg.Add(1)
		go func() { defer v.wg.Done(); p.supervise(&v.closing) }()
	}
	for deadline := begin.Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if readyzOK(client, v.apiPort) {
			return time.Since(begin), nil
		}
	}
	return 0, fmt.Errorf("vanilla control plane: /readyz not ok within 5 minutes: %s", v.logTail("kube-apiserver"))
}

// program is one upstream program and its current process.
type program struct {
	path     string
	args     []string
	log      *os.File
	mu       sync.Mutex
	cmd      *exec.Cmd
	restarts int
}

func (p *program) exec() error {
	cmd := exec.Command(p.path, p.args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	return nil
}

// supervise waits for the process and starts it again until closing is set.
func (p *program) supervise(closing *atomic.Bool) {
	for {
		p.mu.Lock()
		cmd := p.cmd
		p.mu.Unlock()
		_ = cmd.Wait()
		if closing.Load() {
			return
		}
		time.Sleep(time.Second)
		if closing.Load() {
			return
		}
		p.mu.Lock()
		p.restarts++
		p.mu.Unlock()
		if err := p.exec(); err != nil {
			return
		}
	}
}

func (p *program) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// logTail is the end of a program's log (which close removes).
func (v *vanilla) logTail(name string) string {
	b, _ := os.ReadFile(v.path(name + ".log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func (v *vanilla) adminClient() (*http.Client, error) {
	return mtlsClient(v.path("ca.crt"), v.path("admin.crt"), v.path("admin.key"))
}

func (v *vanilla) pids() []int {
	var p []int
	for _, prog := range v.progs {
		p = append(p, prog.pid())
	}
	return p
}

// restarts counts the restarts of every program so far.
func (v *vanilla) restarts() int {
	n := 0
	for _, p := range v.progs {
		p.mu.Lock()
		n += p.restarts
		p.mu.Unlock()
	}
	return n
}

// close stops the programs (SIGTERM, then SIGKILL after 30 s) and removes
// their directory.
func (v *vanilla) close() {
	v.closing.Store(true)
	for _, p := range v.progs {
		_ = syscall.Kill(p.pid(), syscall.SIGTERM)
	}
	done := make(chan struct{})
	go func() { v.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		for _, p := range v.progs {
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		}
		<-done
	}
	for _, p := range v.progs {
		p.log.Close()
	}
	os.RemoveAll(v.dir)
}
