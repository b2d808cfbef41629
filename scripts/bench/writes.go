// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kineDefaults are kine's own SQLite DSN parameters (its DefaultParams).
const kineDefaults = "_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=20&cache=shared"

// upstreamDefaults are the flags of the side-by-side run: kine's SQLite
// defaults (a database of SQLite's own page size, 4 KiB, which a user DSN
// keeps) and the apiserver's periodic writes that wren's single-server mode
// leaves out (the kubernetes Service's endpoint lease, the peer proxy's
// leases). The identity lease's renewal (every minute instead of every 10 s)
// has no flag: both runs keep wren's, which flatters the defaults.
func upstreamDefaults(s *server) []string {
	return append(kineDSN(s),
		"--kube-apiserver-arg", "endpoint-reconciler-type=lease",
		"--kube-apiserver-arg", "feature-gates=UnknownVersionInteroperabilityProxy=true")
}

// kineDSN points the server at its usual database file through kine's own
// DSN, so SQLite creates it with its default page size.
func kineDSN(s *server) []string {
	return []string{"--datastore-endpoint", "sqlite://" + filepath.Join(s.dir, "data", "server", "db", "state.db") + "?" + kineDefaults}
}

// writeSample is what one settings run wrote.
type writeSample struct {
	idleBytes, idleRevs   int64 // over the window
	cycleBytes, cycleRevs int64 // over the pod cycles
	window                time.Duration
}

// benchWrites measures what reaches storage (SD-card wear) with wren's
// settings and with upstream's defaults, one run after the other: bytes and
// datastore writes per idle hour, and per 1,000 pod create/delete cycles.
// With node the servers run their node and add-ons (as on a Raspberry Pi).
func benchWrites(t *table, bin string, node bool, window time.Duration, cycles int) error {
	what := "control plane"
	if node {
		what = "server with its node"
	}
	var runs [2]writeSample
	for i, extra := range []func(*server) []string{nil, upstreamDefaults} {
		s, err := measureWrites(bin, node, extra, window, cycles)
		if err != nil {
			return err
		}
		runs[i] = s
	}
	perHour := func(s writeSample) string {
		h := float64(time.Hour) / float64(s.window)
		return fmt.Sprintf("%.1f MB/hour, %.0f datastore writes/hour", float64(s.idleBytes)*h/1e6, float64(s.idleRevs)*h)
	}
	per1000 := func(s writeSample) string {
		k := 1000 / float64(cycles)
		return fmt.Sprintf("%.1f MB, %.0f datastore writes", float64(s.cycleBytes)*k/1e6, float64(s.cycleRevs)*k)
	}
	ratio := func(a, b int64) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", float64(a)/float64(b))
	}
	t.add(fmt.Sprintf("idle writes, %s, wren's settings (SQLite)", what), perHour(runs[0]),
		fmt.Sprintf("write_bytes of wren%s over %s; %s of upstream's defaults", containerdNote(node), window, ratio(runs[0].idleBytes, runs[1].idleBytes)))
	t.add(fmt.Sprintf("idle writes, %s, upstream defaults (SQLite)", what), perHour(runs[1]), "side by side: kine's SQLite DSN (4 KiB pages), endpoint lease and peer-proxy leases back on")
	t.add("1,000 pod create/delete cycles: writes, wren's settings", per1000(runs[0]),
		fmt.Sprintf("%d cycles measured, pods bound to no real node; %s of upstream's defaults", cycles, ratio(runs[0].cycleBytes, runs[1].cycleBytes)))
	t.add("1,000 pod create/delete cycles: writes, upstream defaults", per1000(runs[1]), "")
	return nil
}

func containerdNote(node bool) string {
	if node {
		return " and containerd"
	}
	return ""
}

// measureWrites starts one server with extra flags, lets it settle, and
// measures its writes idle and over the pod cycles.
func measureWrites(bin string, node bool, extra func(*server) []string, window time.Duration, cycles int) (writeSample, error) {
	if node {
		restore := snapshotHost()
		defer restore()
	}
	s, err := newServer(bin, node)
	if err != nil {
		return writeSample{}, err
	}
	defer s.close()
	if extra != nil {
		s.extra = extra(s)
	}
	begin := time.Now()
	if _, err := s.start(); err != nil {
		return writeSample{}, err
	}
	if node {
		if _, err := s.waitAddonsAvailable(begin); err != nil {
			return writeSample{}, err
		}
	}
	cs, err := s.client()
	if err != nil {
		return writeSample{}, err
	}
	// Start-up writes (add-ons settling, the first compaction) are not idle.
	time.Sleep(30 * time.Second)
	fmt.Fprintf(os.Stderr, "measuring writes for %s (flags %v)...\n", window, s.extra)
	read := func() (usage, int64, error) {
		u, err := s.usage()
		if err != nil {
			return u, 0, err
		}
		rev, err := revision(cs)
		return u, rev, err
	}
	u0, r0, err := read()
	if err != nil {
		return writeSample{}, err
	}
	time.Sleep(window)
	u1, r1, err := read()
	if err != nil {
		return writeSample{}, err
	}
	if err := podCycles(cs, cycles); err != nil {
		return writeSample{}, err
	}
	u2, r2, err := read()
	if err != nil {
		return writeSample{}, err
	}
	return writeSample{
		idleBytes: u1.sub(u0).write, idleRevs: r1 - r0,
		cycleBytes: u2.sub(u1).write, cycleRevs: r2 - r1,
		window: window,
	}, nil
}

// usage is wren's CPU and writes, with its containerd's when it runs a node.
func (s *server) usage() (usage, error) {
	if s.node {
		return nodeUsage(s.pid())
	}
	return usageOf(s.pid())
}

// revision is the datastore's current revision: kine bumps it once per
// write (create, update, delete, compaction).
func revision(cs kubernetes.Interface) (int64, error) {
	// A consistent list (no resourceVersion) answers at the datastore's head.
	list, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(list.ResourceVersion, 10, 64)
}

// podCycles creates and deletes n pods, eight at a time. The pods name a node
// that does not exist, so nothing runs them: the figure is the datastore's
// (the pod, its deletion, the controllers' reactions).
func podCycles(cs kubernetes.Interface, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	zero := int64(0)
	return inParallel(n, 8, func(i int) error {
		name := "cycle-" + strconv.Itoa(i)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{NodeName: "bench-nowhere", Containers: []corev1.Container{{
				Name: "agnhost", Image: agnhost, Args: []string{"pause"},
			}}},
		}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return err
		}
		return cs.CoreV1().Pods("default").Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	})
}

// benchPageSize runs the control plane on wren's database (1 KiB pages) and
// on kine's DSN (SQLite's 4 KiB pages), rounds times each, alternating: cold
// start and ConfigMap create throughput, the price of the smaller pages.
func benchPageSize(t *table, bin string, writes, rounds int) error {
	for r := range rounds {
		for _, kine := range []bool{false, true} {
			s, err := newServer(bin, false)
			if err != nil {
				return err
			}
			what := "wren's database (1 KiB pages)"
			if kine {
				what = "kine's DSN (4 KiB pages)"
				s.extra = kineDSN(s)
			}
			cold, err := s.start()
			if err != nil {
				s.close()
				return err
			}
			tp, err := s.writeThroughput(writes, 16)
			s.close()
			if err != nil {
				return err
			}
			t.add(fmt.Sprintf("round %d, %s: exec → /readyz; %d ConfigMap creates", r+1, what, writes),
				fmt.Sprintf("%s; %.0f/s", ms(cold.apiReady), tp.perSecond), fmt.Sprintf("p50 %s, p99 %s", ms(tp.p50), ms(tp.p99)))
		}
	}
	return nil
}
