// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// sample is what one control-plane run measured.
type sample struct {
	ready time.Duration
	pss   int64
	use   usage // over the CPU window
	procs map[string]int64
	// restarts counts the upstream programs' restarts (before the apiserver
	// was ready: kube-controller-manager exits when RBAC is not yet in place).
	restarts int
}

// compare runs the upstream control plane and wren's one after the other,
// rounds times each, cold (fresh data) every time, and writes medians and
// ratios to out.
func compare(bin, upstream, out string, rounds int, idle, window time.Duration) error {
	var up, wr []sample
	var extract []time.Duration
	for i := range rounds {
		fmt.Fprintf(os.Stderr, "round %d/%d: upstream\n", i+1, rounds)
		s, err := runVanilla(upstream, idle, window)
		if err != nil {
			return err
		}
		up = append(up, s)
		fmt.Fprintf(os.Stderr, "round %d/%d: wren\n", i+1, rounds)
		s, x, err := runWren(bin, idle, window)
		if err != nil {
			return err
		}
		wr, extract = append(wr, s), append(extract, x)
	}
	report := compareReport(up, wr, extract, rounds, idle, window)
	fmt.Print(report)
	return os.WriteFile(out, []byte(report), 0o644)
}

func runVanilla(bins string, idle, window time.Duration) (sample, error) {
	v, err := newVanilla(bins)
	if err != nil {
		return sample{}, err
	}
	defer v.close()
	ready, err := v.start()
	if err != nil {
		return sample{}, err
	}
	s, err := settle(v.pids, idle, window)
	s.ready = ready
	s.restarts = v.restarts()
	return s, err
}

// runWren starts `wren server --disable-agent` on SQLite. The launcher
// extracts the release first (once per data dir, timed on its own), so the
// start that is compared runs the installed program, as upstream's does.
func runWren(bin string, idle, window time.Duration) (sample, time.Duration, error) {
	s, err := newServer(bin, false)
	if err != nil {
		return sample{}, 0, err
	}
	defer s.close()
	begin := time.Now()
	pre := exec.Command(bin, "server", "--data-dir", filepath.Join(s.dir, "data"), "--help")
	if out, err := pre.CombinedOutput(); err != nil {
		return sample{}, 0, fmt.Errorf("extract the release: %v: %s", err, out)
	}
	extract := time.Since(begin)
	t, err := s.start()
	if err != nil {
		return sample{}, 0, err
	}
	m, err := settle(func() []int { return []int{s.pid()} }, idle, window)
	m.ready = t.apiReady
	return m, extract, err
}

// settle idles, then reads PSS and the CPU and writes over window. A program
// that its supervisor is restarting is waited for (a few seconds).
func settle(pidsOf func() []int, idle, window time.Duration) (sample, error) {
	time.Sleep(idle)
	for range 10 {
		s, err := measure(pidsOf(), window)
		if !errors.Is(err, os.ErrNotExist) {
			return s, err
		}
		time.Sleep(time.Second)
	}
	return sample{}, errors.New("a program kept restarting")
}

func measure(pids []int, window time.Duration) (sample, error) {
	s := sample{procs: map[string]int64{}}
	var before usage
	for _, pid := range pids {
		m, err := memoryOf(pid)
		if err != nil {
			return s, err
		}
		s.pss += m.pss
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		s.procs[strings.TrimSpace(string(comm))] = m.pss
		u, err := usageOf(pid)
		if err != nil {
			return s, err
		}
		before = before.add(u)
	}
	time.Sleep(window)
	var after usage
	for _, pid := range pids {
		u, err := usageOf(pid)
		if err != nil {
			return s, err
		}
		after = after.add(u)
	}
	s.use = after.sub(before)
	return s, nil
}

func compareReport(up, wr []sample, extract []time.Duration, rounds int, idle, window time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# wren vs. upstream control plane\n\n%s\n\n", hostLine())
	fmt.Fprintf(&b, "`make compare`: upstream = etcd, kube-apiserver, kube-controller-manager and kube-scheduler "+
		"as separate programs (built from the module versions wren links; loopback, TLS, upstream defaults); "+
		"wren = `wren server --disable-agent` on SQLite. %d rounds each, alternating, fresh data every run; "+
		"medians. Memory read after %s idle, CPU and writes over the next %s.\n\n", rounds, idle, window)
	b.WriteString("| measure | upstream | wren | wren / upstream |\n|---|---|---|---|\n")
	row := func(what string, u, w float64, unit func(float64) string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f× |\n", what, unit(u), unit(w), w/u)
	}
	secs := func(f float64) string { return fmt.Sprintf("%.2f s", f) }
	mibs := func(f float64) string { return fmt.Sprintf("%.0f MiB", f/(1<<20)) }
	pct := func(f float64) string { return fmt.Sprintf("%.2f%% of one core", f) }
	mbh := func(f float64) string { return fmt.Sprintf("%.1f MB/hour", f) }
	get := func(s []sample, f func(sample) float64) float64 {
		var v []float64
		for _, x := range s {
			v = append(v, f(x))
		}
		return median(v)
	}
	ready := func(s sample) float64 { return s.ready.Seconds() }
	pss := func(s sample) float64 { return float64(s.pss) }
	cpu := func(s sample) float64 { return 100 * s.use.cpu.Seconds() / window.Seconds() }
	writes := func(s sample) float64 { return float64(s.use.write) * float64(time.Hour) / float64(window) / 1e6 }
	row("exec → /readyz, cold", get(up, ready), get(wr, ready), secs)
	row("idle PSS", get(up, pss), get(wr, pss), mibs)
	row("idle CPU", get(up, cpu), get(wr, cpu), pct)
	row("idle writes (write_bytes)", get(up, writes), get(wr, writes), mbh)
	var x []float64
	for _, d := range extract {
		x = append(x, d.Seconds())
	}
	restarts := 0
	for _, u := range up {
		restarts += u.restarts
	}
	fmt.Fprintf(&b, "\nThe upstream programs run under a supervisor that restarts one a second after it exits (as systemd's "+
		"Restart=always): %d restarts over the %d upstream runs.\n", restarts, len(up))
	fmt.Fprintf(&b, "\nwren's first run on a data dir also extracts the release: %.2f s (median), not in the start above.\n\n", median(x))
	b.WriteString("Upstream idle PSS per program (median): ")
	var parts []string
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller", "kube-scheduler"} {
		parts = append(parts, fmt.Sprintf("%s %s", name, mibs(get(up, func(s sample) float64 { return float64(s.procs[name]) }))))
	}
	b.WriteString(strings.Join(parts, ", ") + ".\n\nEvery run:\n\n| run | upstream ready / PSS / CPU | wren ready / PSS / CPU |\n|---|---|---|\n")
	for i := range up {
		fmt.Fprintf(&b, "| %d | %s / %s / %s | %s / %s / %s |\n", i+1,
			secs(ready(up[i])), mibs(pss(up[i])), pct(cpu(up[i])), secs(ready(wr[i])), mibs(pss(wr[i])), pct(cpu(wr[i])))
	}
	return b.String()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
