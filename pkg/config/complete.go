// SPDX-License-Identifier: Apache-2.0

package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/wren-k8s/wren/pkg/internal/cliargs"
)

const defaultDatastoreConnectTimeout = 60 * time.Second

// sqlitePageSize is the page size of the SQLite database wren creates. Each
// kine write changes a row and its five indexes, a page each, and SQLite
// writes whole pages (to the WAL, then the database): 1 KiB pages write about
// a quarter of SQLite's default 4 KiB (SD cards). A database keeps the page
// size it was created with.
const sqlitePageSize = 1024

// sqliteParams are kine's own defaults for its SQLite DSN (WAL, busy timeout,
// immediate transactions).
const sqliteParams = "_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=20&cache=shared"

// withSQLiteDefaults adds to a user's sqlite:// DSN each of sqliteParams it
// does not set itself: kine applies its defaults only when no DSN is given,
// so "sqlite:///x.db" would otherwise run without WAL and without a busy
// timeout. The user's own values win.
func withSQLiteDefaults(dsn string) string {
	base, query, _ := strings.Cut(dsn, "?")
	have := map[string]bool{}
	for _, kv := range strings.Split(query, "&") {
		if k, _, _ := strings.Cut(kv, "="); k != "" {
			have[k] = true
		}
	}
	params := []string{}
	if query != "" {
		params = append(params, query)
	}
	for _, kv := range strings.Split(sqliteParams, "&") {
		if k, _, _ := strings.Cut(kv, "="); !have[k] {
			params = append(params, kv)
		}
	}
	return base + "?" + strings.Join(params, "&")
}

// Derived holds values computed from the user's settings by Complete.
type Derived struct {
	ServerDir string // <data-dir>/server
	TLSDir    string // <data-dir>/server/tls
	CredDir   string // <data-dir>/server/cred: component kubeconfigs
	DBDir     string // <data-dir>/server/db
	TokenPath string // <data-dir>/server/token
	// AgentTokenPath is <data-dir>/server/agent-token.
	AgentTokenPath string
	// EncryptionConfig and EncryptionState are
	// <data-dir>/server/cred/encryption-{config,state}.json.
	EncryptionConfig, EncryptionState string
	// EtcDir is <data-dir>/server/etc: rendered configs.
	EtcDir     string
	KineSocket string // unix socket kine serves the etcd API on

	Hostname string
	// NodeIP is this host's primary address (default-route interface).
	NodeIP netip.Addr
	// AdvertiseIP is the address published for the API.
	AdvertiseIP netip.Addr
	// APIURL is the API address for clients on this host.
	APIURL string
	// APIServiceIP is the first service IP, the ClusterIP of the kubernetes Service.
	APIServiceIP netip.Addr
	// SANDNS and SANIPs are the serving certificate's subject alternative names.
	SANDNS []string
	SANIPs []netip.Addr

	// Disabled is the set of add-ons kept out (--disable, --disable-helm-controller).
	Disabled map[string]bool
	// StoragePath is where local-path volumes live.
	StoragePath string

	// Datastore is the DSN handed to kine; DatastoreScheme its scheme.
	Datastore       string
	DatastoreScheme string
	// SQLitePageSize is the page size of a SQLite database wren creates
	// (0: SQLite's default), set for wren's own database only.
	SQLitePageSize int
	// LeaderElect is false for SQLite: one process owns the datastore.
	LeaderElect bool

	ControllerManagerPort int
	SchedulerPort         int
}

// Complete fills Derived from the settings. It only reads the host (hostname,
// interfaces), never writes.
func (s *Server) Complete() error {
	abs, err := filepath.Abs(s.DataDir)
	if err != nil {
		return fmt.Errorf("--data-dir %q: %w", s.DataDir, err)
	}
	s.DataDir = abs
	d := &s.Derived
	d.ServerDir = filepath.Join(abs, "server")
	d.TLSDir = filepath.Join(d.ServerDir, "tls")
	d.CredDir = filepath.Join(d.ServerDir, "cred")
	d.DBDir = filepath.Join(d.ServerDir, "db")
	d.TokenPath = filepath.Join(d.ServerDir, "token")
	d.EncryptionConfig = filepath.Join(d.CredDir, "encryption-config.json")
	d.EncryptionState = filepath.Join(d.CredDir, "encryption-state.json")
	d.AgentTokenPath = filepath.Join(d.ServerDir, "agent-token")
	d.EtcDir = filepath.Join(d.ServerDir, "etc")
	d.KineSocket = filepath.Join(d.ServerDir, "kine.sock")

	if s.KubeconfigOutput != "" {
		if s.KubeconfigOutput, err = filepath.Abs(s.KubeconfigOutput); err != nil {
			return fmt.Errorf("--write-kubeconfig: %w", err)
		}
	}

	if s.TokenFile != "" {
		if s.Token != "" {
			return fmt.Errorf("--token and --token-file: give only one")
		}
		b, err := os.ReadFile(s.TokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		if s.Token = strings.TrimSpace(string(b)); s.Token == "" {
			return fmt.Errorf("--token-file %s: empty", s.TokenFile)
		}
	}

	if s.AgentTokenFile != "" {
		if s.AgentToken != "" {
			return fmt.Errorf("--agent-token and --agent-token-file: give only one")
		}
		b, err := os.ReadFile(s.AgentTokenFile)
		if err != nil {
			return fmt.Errorf("--agent-token-file: %w", err)
		}
		if s.AgentToken = strings.TrimSpace(string(b)); s.AgentToken == "" {
			return fmt.Errorf("--agent-token-file %s: empty", s.AgentTokenFile)
		}
	}

	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("hostname: %w", err)
	}
	d.Hostname = strings.ToLower(host)
	d.NodeIP = s.Agent.NodeIP.Addr
	if !d.NodeIP.IsValid() {
		d.NodeIP = hostIP()
	}
	d.AdvertiseIP = s.AdvertiseAddress.Addr
	if !d.AdvertiseIP.IsValid() {
		d.AdvertiseIP = d.NodeIP
	}
	if s.ServiceCIDR.IsValid() {
		d.APIServiceIP = s.ServiceCIDR.Addr().Next()
		if !s.ClusterDNS.IsValid() {
			s.ClusterDNS.Addr = nthAddr(s.ServiceCIDR.Addr(), 10)
		}
	}
	d.SANDNS, d.SANIPs = s.servingSANs()

	d.Disabled = map[string]bool{}
	for _, item := range s.Disable {
		for _, name := range strings.Split(item, ",") {
			if name = strings.TrimSpace(name); name != "" {
				d.Disabled[name] = true
			}
		}
	}
	if s.DisableHelmController {
		d.Disabled[AddonHelmController] = true
	}
	d.StoragePath = s.DefaultLocalStoragePath
	if d.StoragePath == "" {
		d.StoragePath = filepath.Join(abs, "storage")
	}
	if d.StoragePath, err = filepath.Abs(d.StoragePath); err != nil {
		return fmt.Errorf("--default-local-storage-path: %w", err)
	}

	d.Datastore = s.DatastoreEndpoint
	if d.Datastore == "" {
		d.Datastore = "sqlite://" + filepath.Join(d.DBDir, "state.db") + "?" + sqliteParams
		d.SQLitePageSize = sqlitePageSize
	}
	d.DatastoreScheme, _, _ = strings.Cut(d.Datastore, "://")
	if d.DatastoreScheme == "sqlite" {
		d.Datastore = withSQLiteDefaults(d.Datastore)
	}
	d.LeaderElect = d.DatastoreScheme != "sqlite"

	d.APIURL = LocalAPIURL(s.BindAddress.Addr, s.HTTPSPort)
	s.Agent.Cluster = ClusterSettings{
		APIURL:        d.APIURL,
		ClusterCIDR:   s.ClusterCIDR.Prefix,
		ServiceCIDR:   s.ServiceCIDR.Prefix,
		ClusterDNS:    s.ClusterDNS.Addr,
		ClusterDomain: s.ClusterDomain,
	}
	if err := s.Agent.CompleteAgent(abs, d.NodeIP, d.Hostname); err != nil {
		return err
	}
	d.ControllerManagerPort = portArg(s.ExtraControllerManagerArgs, DefaultControllerManagerPort)
	d.SchedulerPort = portArg(s.ExtraSchedulerArgs, DefaultSchedulerPort)
	return nil
}

// servingSANs lists the names the API serving certificate must cover.
func (s *Server) servingSANs() ([]string, []netip.Addr) {
	d := s.Derived
	dns := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc." + s.ClusterDomain}
	if d.Hostname != "" {
		dns = append(dns, d.Hostname)
	}
	ips := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	for _, ip := range []netip.Addr{d.NodeIP, d.AdvertiseIP, d.APIServiceIP} {
		if ip.IsValid() {
			ips = append(ips, ip)
		}
	}
	if s.BindAddress.IsValid() && !s.BindAddress.IsUnspecified() {
		ips = append(ips, s.BindAddress.Addr)
	}
	for _, san := range s.TLSSANs {
		san = strings.TrimSpace(san)
		if ip, err := netip.ParseAddr(san); err == nil {
			ips = append(ips, ip)
		} else if san != "" {
			dns = append(dns, strings.ToLower(san))
		}
	}
	return dedupe(dns), dedupe(ips)
}

func dedupe[T comparable](in []T) []T {
	seen := map[T]bool{}
	out := in[:0]
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// hostIP is the address of the default-route interface, or loopback if there is none.
func hostIP() netip.Addr {
	ip, err := utilnet.ChooseHostInterface()
	if err != nil {
		return netip.MustParseAddr("127.0.0.1")
	}
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// nthAddr returns base+n.
func nthAddr(base netip.Addr, n int) netip.Addr {
	for range n {
		base = base.Next()
	}
	return base
}

// portArg finds secure-port=N among upstream extra args, else def.
func portArg(args []string, def int) int {
	for _, a := range args {
		k, v := cliargs.NameValue(a)
		if k == "secure-port" {
			if p, err := strconv.Atoi(v); err == nil {
				def = p
			}
		}
	}
	return def
}

// LocalAPIURL is the API address for clients on this host: loopback unless
// the server is bound to one address.
func LocalAPIURL(bind netip.Addr, port int) string {
	host := "127.0.0.1"
	switch {
	case bind.IsValid() && !bind.IsUnspecified():
		host = bind.String()
	case bind.Is6():
		host = "::1"
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// hostHasIP reports whether ip is configured on one of this host's interfaces.
func hostHasIP(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == ip {
				return true
			}
		}
	}
	return false
}
