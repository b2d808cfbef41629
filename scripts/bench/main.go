// SPDX-License-Identifier: Apache-2.0

// Command bench measures a wren binary: size, start-up time, idle memory and
// datastore throughput through the API. It prints one table and writes it to
// bench/latest.md. With -compare it runs wren's control plane side by side
// with the upstream one instead (bench/compare.md). Figures are reports,
// never pass/fail.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/wren", "wren binary to measure")
	out := flag.String("out", "bench/latest.md", "where to write the table")
	idle := flag.Duration("idle", 60*time.Second, "how long to idle before measuring memory")
	writes := flag.Int("writes", 2000, "ConfigMap creates for the throughput run")
	cycles := flag.Int("cycles", 1000, "pod create/delete cycles for the write-volume run")
	writeWindow := flag.Duration("write-window", 2*time.Minute, "how long idle writes are measured, per settings")
	upstream := flag.String("compare", "", "directory of upstream etcd, kube-apiserver, kube-controller-manager and kube-scheduler: "+
		"measure them side by side with wren's control plane instead (make compare)")
	rounds := flag.Int("rounds", 3, "with -compare: runs of each")
	window := flag.Duration("window", 30*time.Second, "with -compare: how long CPU and writes are measured after idling")
	only := flag.String("only", "", "run one benchmark alone: writes (the write-volume runs), "+
		"pagesize (wren's SQLite database vs kine's DSN: start and throughput, 3 rounds)")
	flag.Parse()
	var err error
	switch *only {
	case "writes", "pagesize":
		t := &table{}
		if *only == "writes" {
			err = benchWrites(t, *bin, os.Geteuid() == 0, *writeWindow, *cycles)
		} else {
			err = benchPageSize(t, *bin, *writes, 3)
		}
		if err == nil {
			fmt.Print(t.markdown(hostLine()))
		}
	case "":
		if *upstream != "" {
			err = compare(*bin, *upstream, *out, *rounds, *idle, *window)
		} else {
			err = run(*bin, *out, *idle, *writeWindow, *writes, *cycles)
		}
	default:
		err = fmt.Errorf("-only %q: want writes or pagesize", *only)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, out string, idle, writeWindow time.Duration, writes, cycles int) error {
	t := &table{}
	if err := measureSize(t, bin); err != nil {
		return err
	}
	if err := benchControlPlane(t, bin, idle, writes); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if err := benchNode(t, bin, idle); err != nil {
			return err
		}
		if err := benchAgent(t, bin, idle); err != nil {
			return err
		}
		if err := benchCluster(t); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(os.Stderr, "not root: skipping the node benchmarks")
	}
	if err := benchWrites(t, bin, os.Geteuid() == 0, writeWindow, cycles); err != nil {
		return err
	}
	report := t.markdown(hostLine())
	fmt.Print(report)
	if out != "" {
		return os.WriteFile(out, []byte(report), 0o644)
	}
	return nil
}

// benchControlPlane measures `wren server --disable-agent` on SQLite.
func benchControlPlane(t *table, bin string, idle time.Duration, writes int) error {
	s, err := newServer(bin, false)
	if err != nil {
		return err
	}
	defer s.close()
	cold, err := s.start()
	if err != nil {
		return fmt.Errorf("cold start: %w", err)
	}
	t.add("control plane cold start: exec → /readyz ok", ms(cold.apiReady), "")
	t.add("control plane cold start: exec → all components ready", ms(cold.allReady), "")

	fmt.Fprintf(os.Stderr, "idling %s before measuring memory...\n", idle)
	time.Sleep(idle)
	mem, err := memoryOf(s.pid())
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("control plane idle memory after %s (RSS / PSS / anon)", idle), mem.String(), "SQLite, no node")

	tp, err := s.writeThroughput(writes, 16)
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("%d ConfigMap creates, 16 clients, SQLite", writes),
		fmt.Sprintf("%.0f/s", tp.perSecond), fmt.Sprintf("latency p50 %s, p99 %s", ms(tp.p50), ms(tp.p99)))

	if err := s.stop(); err != nil {
		return err
	}
	warm, err := s.start()
	if err != nil {
		return fmt.Errorf("warm start: %w", err)
	}
	t.add("control plane warm restart: exec → /readyz ok", ms(warm.apiReady), fmt.Sprintf("%d objects in the datastore", writes))
	t.add("control plane warm restart: exec → all components ready", ms(warm.allReady), "")
	return nil
}

func measureSize(t *table, bin string) error {
	fi, err := os.Stat(bin)
	if err != nil {
		return err
	}
	t.add("download: bin/wren (launcher + zstd release)", mib(fi.Size()),
		fmt.Sprintf("%.1f MB; everything an offline node needs, add-on images included", float64(fi.Size())/1e6))
	// What the launcher extracts: the program and the rest of the release.
	payload := filepath.Join(filepath.Dir(bin), "..", "build", "payload")
	if pfi, err := os.Stat(filepath.Join(payload, "bin", "wren")); err == nil {
		t.add("wren program, extracted", mib(pfi.Size()), filepath.Join("build", "payload", "bin", "wren"))
	}
	var total int64
	_ = filepath.WalkDir(payload, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if i, err := d.Info(); err == nil {
				total += i.Size()
			}
		}
		return nil
	})
	if total > 0 {
		t.add("release, extracted (data/<hash>/)", mib(total), "program, runc, shim, CNI plugins, images")
	}
	return nil
}

func hostLine() string {
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, %d CPUs, kernel %s, %s", time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		runtime.NumCPU(), strings.TrimSpace(string(kernel)), runtime.Version())
}

type table struct{ rows [][3]string }

func (t *table) add(what, value, note string) {
	t.rows = append(t.rows, [3]string{what, value, note})
	fmt.Fprintf(os.Stderr, "%-55s %s %s\n", what, value, note)
}

func (t *table) markdown(host string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# wren benchmarks\n\n%s\n\n| measure | value | note |\n|---|---|---|\n", host)
	for _, r := range t.rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r[0], r[1], r[2])
	}
	return b.String()
}

func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
