// SPDX-License-Identifier: Apache-2.0

package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Prefix is a CIDR flag value. Its Set method rejects anything that is not a
// canonical network prefix, so a bad value is reported against its flag.
type Prefix struct{ netip.Prefix }

// MustPrefix parses s or panics; for defaults only.
func MustPrefix(s string) Prefix { return Prefix{netip.MustParsePrefix(s)} }

// Set parses a CIDR such as 10.42.0.0/16.
func (p *Prefix) Set(s string) error {
	pr, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("invalid CIDR %q", s)
	}
	if pr.Masked() != pr {
		return fmt.Errorf("invalid CIDR %q: host bits set (did you mean %s?)", s, pr.Masked())
	}
	p.Prefix = pr
	return nil
}

// String returns the CIDR, or "" when unset.
func (p *Prefix) String() string {
	if !p.IsValid() {
		return ""
	}
	return p.Prefix.String()
}

// Type names the value kind in help output.
func (p *Prefix) Type() string { return "cidr" }

// Addr is an IP address flag value; the zero value means "not set".
type Addr struct{ netip.Addr }

// Set parses an IPv4 or IPv6 address.
func (a *Addr) Set(s string) error {
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("invalid IP address %q", s)
	}
	a.Addr = ip
	return nil
}

// String returns the address, or "" when unset.
func (a *Addr) String() string {
	if !a.IsValid() {
		return ""
	}
	return a.Addr.String()
}

// Type names the value kind in help output.
func (a *Addr) Type() string { return "ip" }

// FileMode is an octal permission flag value such as 0600 or 644.
type FileMode uint32

// Set parses an octal mode.
func (m *FileMode) Set(s string) error {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 8, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("invalid file mode %q: want octal such as 0600 or 644", s)
	}
	*m = FileMode(v)
	return nil
}

// String returns the mode in octal.
func (m *FileMode) String() string { return fmt.Sprintf("%#o", uint32(*m)) }

// Type names the value kind in help output.
func (m *FileMode) Type() string { return "mode" }

// PortRange is a flag value such as 30000-32767.
type PortRange struct{ Base, Size int }

// Set parses "first-last" (or a single port).
func (r *PortRange) Set(s string) error {
	first, last, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		last = first
	}
	lo, err1 := strconv.Atoi(first)
	hi, err2 := strconv.Atoi(last)
	if err1 != nil || err2 != nil || lo < 1 || hi > 65535 || hi < lo {
		return fmt.Errorf("invalid port range %q: want first-last within 1-65535", s)
	}
	r.Base, r.Size = lo, hi-lo+1
	return nil
}

// String returns "first-last".
func (r *PortRange) String() string {
	if r.Size == 0 {
		return ""
	}
	return fmt.Sprintf("%d-%d", r.Base, r.Base+r.Size-1)
}

// Type names the value kind in help output.
func (r *PortRange) Type() string { return "range" }

// Duration is a positive duration flag value such as 30s or 2m.
type Duration time.Duration

// Set parses a Go duration; it must be positive.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v <= 0 {
		return fmt.Errorf("invalid duration %q: want a positive duration such as 30s or 2m", s)
	}
	*d = Duration(v)
	return nil
}

// String returns the duration in Go syntax.
func (d *Duration) String() string { return time.Duration(*d).String() }

// Type names the value kind in help output.
func (d *Duration) Type() string { return "duration" }
