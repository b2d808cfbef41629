// SPDX-License-Identifier: Apache-2.0

// Package gctune sets the garbage collector's pace for a long-running wren
// server or agent.
package gctune

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
)

// IdlePercent is the GOGC wren runs at once every component is ready: the
// heap may grow to 1.25× what is live instead of 2×. Starting (which
// allocates a lot, once) keeps Go's default of 100, so it is not slowed; a
// settled server allocates little, so collecting more often costs little
// CPU (make bench reports the idle CPU).
const IdlePercent = 25

// AfterStart lowers GOGC to IdlePercent unless the user set GOGC (then
// theirs stays, from the first instruction).
func AfterStart(log *slog.Logger) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Debug("GOGC set by the environment; the garbage collector keeps it", "GOGC", v)
		return
	}
	debug.SetGCPercent(IdlePercent)
	log.Debug("garbage collector paced for a settled process", "GOGC", strconv.Itoa(IdlePercent))
}

// ChildEnv is the environment entry that gives a long-running child wren
// starts (containerd) the same pace, or nothing when the user set GOGC
// (the child inherits it).
func ChildEnv() []string {
	if _, ok := os.LookupEnv("GOGC"); ok {
		return nil
	}
	return []string{"GOGC=" + strconv.Itoa(IdlePercent)}
}
