// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// memory is a process's footprint. PSS shares the binary's code pages fairly
// between processes started from it; RSS counts them in each.
type memory struct{ rss, pss, anon int64 }

func memoryOf(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Rss:":
			m.rss = kb << 10
		case "Pss:":
			m.pss = kb << 10
		case "Anonymous:":
			m.anon = kb << 10
		}
	}
	return m, sc.Err()
}

// String renders "RSS / PSS / anon".
func (m memory) String() string {
	return fmt.Sprintf("%s / %s / %s", mib(m.rss), mib(m.pss), mib(m.anon))
}

func (m memory) add(o memory) memory {
	return memory{rss: m.rss + o.rss, pss: m.pss + o.pss, anon: m.anon + o.anon}
}

// usage is a process's CPU time and the bytes it has caused to be written
// to storage (/proc/PID/io write_bytes: the datastore's pages and fsyncs,
// containerd's state), read at one moment.
type usage struct {
	cpu   time.Duration
	write int64
}

func usageOf(pid int) (usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	i := strings.LastIndexByte(string(stat), ')')
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return usage{}, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	u := usage{cpu: time.Duration(utime+stime) * time.Second / clockTicks}
	io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return usage{}, err
	}
	for _, line := range strings.Split(string(io), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			u.write, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return u, nil
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func (u usage) sub(o usage) usage { return usage{cpu: u.cpu - o.cpu, write: u.write - o.write} }
func (u usage) add(o usage) usage { return usage{cpu: u.cpu + o.cpu, write: u.write + o.write} }

// idleRates renders CPU as a share of one core and writes per hour over d.
func (u usage) idleRates(d time.Duration) (cpu, writes string) {
	perHour := float64(u.write) * float64(time.Hour) / float64(d)
	return fmt.Sprintf("%.2f%% of one core", 100*u.cpu.Seconds()/d.Seconds()), fmt.Sprintf("%.1f MB/hour", perHour/1e6)
}
