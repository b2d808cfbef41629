//go:build e2e && conformance

// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
	"time"
)

// pass is the outcome of one ginkgo run of the suite.
type pass struct {
	name     string
	nodes    int
	duration time.Duration
	passed   int
	skipped  []failure // skipped while running, with the reason
	failed   []failure
}

// failure is a spec that failed (or was skipped) and the start of its message.
type failure struct{ name, excerpt string }

// junitSuites is the part of ginkgo's --junit-report the report needs.
type junitSuites struct {
	Suites []struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Status  string `xml:"status,attr"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// readJUnit counts a ginkgo JUnit report. Specs the focus filtered out are
// reported as skipped with the bare message "skipped": they are not counted.
func readJUnit(path string) (pass, error) {
	var p pass
	b, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	var js junitSuites
	if err := xml.Unmarshal(b, &js); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range js.Suites {
		for _, c := range s.Cases {
			switch {
			case c.Failure != nil:
				p.failed = append(p.failed, failure{c.Name, excerpt(c.Failure.Message, c.Failure.Text)})
			case c.Error != nil:
				p.failed = append(p.failed, failure{c.Name, excerpt(c.Error.Message, c.Error.Text)})
			case c.Status == "skipped" || c.Skipped != nil:
				if c.Skipped != nil && c.Skipped.Message != "skipped" {
					p.skipped = append(p.skipped, failure{c.Name, excerpt(c.Skipped.Message)})
				}
			case c.Status == "passed" && strings.HasPrefix(c.Name, "[It]"):
				p.passed++
			}
		}
	}
	return p, nil
}

// excerpt is the start of the first non-empty text: its first three
// non-empty lines (a gomega message's first line is often just "Expected"),
// joined, at most 300 bytes.
func excerpt(texts ...string) string {
	for _, t := range texts {
		var lines []string
		for _, l := range strings.Split(t, "\n") {
			if l = strings.TrimSpace(l); l != "" && len(lines) < 3 {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			s := strings.Join(lines, " ")
			if len(s) > 300 {
				s = s[:300] + "…"
			}
			return s
		}
	}
	return "(no message)"
}

// markdown is bench/conformance.md: the passes' counts and failures, and
// the cluster they ran on.
func markdown(cluster string, ps ...pass) string {
	var b strings.Builder
	passed, total := 0, 0
	for _, p := range ps {
		passed += p.passed
		total += p.passed + len(p.failed) + len(p.skipped)
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(passed) / float64(total)
	}
	fmt.Fprintf(&b, "# Conformance (make conformance)\n\n")
	fmt.Fprintf(&b, "Upstream e2e.test, the [Conformance] specs, on 1 server + 2 agents (containers on one 2-core host), %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "**%d of %d passed (%.1f%%).**\n\n", passed, total, pct)
	b.WriteString("| pass | ginkgo nodes | passed | failed | skipped | duration |\n|---|---|---|---|---|---|\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s |\n", p.name, p.nodes, p.passed, len(p.failed), len(p.skipped), p.duration.Round(time.Second))
	}
	for _, p := range ps {
		for _, list := range []struct {
			what string
			fs   []failure
		}{{"failed", p.failed}, {"skipped", p.skipped}} {
			if len(list.fs) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n## %s pass: %s\n\n", p.name, list.what)
			for _, f := range list.fs {
				fmt.Fprintf(&b, "- %s\n  `%s`\n", f.name, strings.ReplaceAll(f.excerpt, "`", "'"))
			}
		}
	}
	fmt.Fprintf(&b, "\n## Cluster\n\n```\n%s\n```\n", strings.TrimSpace(cluster))
	return b.String()
}
