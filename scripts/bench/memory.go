// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
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
