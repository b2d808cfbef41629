// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// server is one wren server process with its own data dir and ports.
type server struct {
	bin, dir, kubeconfig string
	port                 int
	node                 bool
	// extra are more server flags; joinURL and token make it `wren agent`.
	extra          []string
	joinURL, token string
	cmd            *exec.Cmd
	done           chan struct{}
	logStart       int64
}

type startTimes struct{ apiReady, allReady time.Duration }

// newServer prepares a server in a fresh directory; with node it runs a node
// too, with the agnhost image from build/images to import.
func newServer(bin string, node bool) (*server, error) {
	dir, err := os.MkdirTemp("", "wren-bench-")
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig.yaml"), port: freePort(), node: node}
	if node {
		images := filepath.Join(dir, "data", "agent", "images")
		if err := os.MkdirAll(images, 0o755); err != nil {
			return nil, err
		}
		agnhost, err := filepath.Abs("build/images/agnhost.tar")
		if err != nil {
			return nil, err
		}
		if err := os.Symlink(agnhost, filepath.Join(images, "agnhost.tar")); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *server) logPath() string { return filepath.Join(s.dir, "wren.log") }

// allReady reports whether this run of wren logged that everything is ready.
func (s *server) allReady() bool {
	b, err := os.ReadFile(s.logPath())
	msg := "wren server is ready"
	if s.joinURL != "" {
		msg = "wren agent is ready"
	}
	return err == nil && int64(len(b)) > s.logStart && strings.Contains(string(b[s.logStart:]), msg)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 16443
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// start execs wren and times /readyz (polled with the admin certificate as
// soon as it exists) and the admin kubeconfig (written once all is ready).
func (s *server) start() (startTimes, error) {
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return startTimes{}, err
	}
	if fi, err := logf.Stat(); err == nil {
		s.logStart = fi.Size()
	}
	args := []string{"server", "--data-dir", filepath.Join(s.dir, "data"), "--write-kubeconfig", s.kubeconfig,
		"--https-listen-port", strconv.Itoa(s.port),
		"--kube-controller-manager-arg", "secure-port=" + strconv.Itoa(freePort()),
		"--kube-scheduler-arg", "secure-port=" + strconv.Itoa(freePort())}
	if !s.node {
		args = append(args, "--disable-agent")
	}
	args = append(args, s.extra...)
	if s.joinURL != "" {
		args = []string{"agent", "--data-dir", filepath.Join(s.dir, "data"), "--server", s.joinURL, "--token", s.token}
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	begin := time.Now()
	if err := s.cmd.Start(); err != nil {
		return startTimes{}, err
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); logf.Close(); close(s.done) }()

	var t startTimes
	deadline := begin.Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return t, fmt.Errorf("wren exited; see %s", filepath.Join(s.dir, "wren.log"))
		default:
		}
		if t.apiReady == 0 && (s.joinURL != "" || s.readyz()) {
			t.apiReady = time.Since(begin)
		}
		if t.apiReady != 0 && s.allReady() {
			t.allReady = time.Since(begin)
			return t, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return t, errors.New("not ready within 5 minutes")
}

func (s *server) readyz() bool {
	tlsDir := filepath.Join(s.dir, "data", "server", "tls")
	c, err := mtlsClient(filepath.Join(tlsDir, "server-ca.crt"), filepath.Join(tlsDir, "client-admin.crt"), filepath.Join(tlsDir, "client-admin.key"))
	if err != nil {
		return false
	}
	return readyzOK(c, s.port)
}

// mtlsClient is an HTTPS client that trusts caFile and presents a client certificate.
func mtlsClient(caFile, certFile, keyFile string) (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}, nil
}

// readyzOK reports whether the apiserver on the loopback port answers /readyz ok.
func readyzOK(c *http.Client, port int) bool {
	resp, err := c.Get(fmt.Sprintf("https://127.0.0.1:%d/readyz", port))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (s *server) stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(2 * time.Minute):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		return errors.New("wren did not stop within 2 minutes")
	}
}

func (s *server) close() {
	_ = s.stop()
	if s.node {
		_ = exec.Command(s.bin, "killall", "--data-dir", filepath.Join(s.dir, "data")).Run()
	}
	os.RemoveAll(s.dir)
}

func (s *server) client() (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit
	return kubernetes.NewForConfig(cfg)
}

type throughput struct {
	perSecond float64
	p50, p99  time.Duration
}

// writeThroughput creates n ConfigMaps with the given number of concurrent clients.
func (s *server) writeThroughput(n, clients int) (throughput, error) {
	cs, err := s.client()
	if err != nil {
		return throughput{}, err
	}
	ctx := context.Background()
	ns := "bench"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return throughput{}, err
	}
	lat := make([]time.Duration, n)
	begin := time.Now()
	err = inParallel(n, clients, func(i int) error {
		t0 := time.Now()
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "cm-" + strconv.Itoa(i)},
			Data:       map[string]string{"payload": strings.Repeat("x", 256)},
		}, metav1.CreateOptions{})
		lat[i] = time.Since(t0)
		return err
	})
	total := time.Since(begin)
	if err != nil {
		return throughput{}, err
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	return throughput{perSecond: float64(n) / total.Seconds(), p50: lat[n/2], p99: lat[n*99/100]}, nil
}

// inParallel calls f(0) … f(n-1) from the given number of goroutines and
// returns every error.
func inParallel(n, workers int, f func(i int) error) error {
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}
