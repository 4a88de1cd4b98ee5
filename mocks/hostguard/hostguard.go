// Package hostguard is the DNS-rebinding guard of the mock servers: a server that listens
// on loopback answers only requests that name a loopback host. A web page can rebind its
// own domain to 127.0.0.1 and make a browser talk to a local server; the browser then
// still sends the page's domain in Host, which is what gives the request away.
//
// It applies the rule mcp-go applies to its own transports (loopback connection, Host not
// loopback: 403), to every route of a server, so that metadata documents, token and
// consent endpoints are covered as well.
package hostguard

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// IsLoopback reports whether host, a bare host or host:port ("localhost", "127.0.0.1:80",
// "[::1]:443", "::1"), names this machine: localhost in any case, or a loopback IP.
func IsLoopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// Handler answers 403 to a request that arrived on a loopback address but names another
// host, and passes everything else to next. A request that arrived on another address
// cannot be a rebinding attack on a local server and passes.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if local != nil && IsLoopback(local.String()) && !IsLoopback(r.Host) {
			http.Error(w, fmt.Sprintf("Forbidden: invalid Host header %q", r.Host), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
