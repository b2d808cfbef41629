// SPDX-License-Identifier: Apache-2.0

package supervisor

import (
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
)

// pprofPrefix is where --enable-pprof serves Go's profiles, as in k3s.
const pprofPrefix = "/debug/pprof/"

// pprof serves Go's runtime profiles (CPU, heap, goroutines…) of the whole
// wren process to a client whose certificate is in system:masters. Profiles
// show memory contents and cost CPU, so nobody else gets them.
func (s *supervisor) pprof(w http.ResponseWriter, r *http.Request) {
	_, groups, ok := s.user(r)
	if !ok || !slices.Contains(groups, "system:masters") {
		http.Error(w, "profiles need an admin client certificate", http.StatusForbidden)
		return
	}
	switch name := strings.TrimPrefix(r.URL.Path, pprofPrefix); name {
	case "":
		pprof.Index(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}
