package metrics

import (
	"net"
	"net/http"
)

// PublicHandler is GET /metrics on the gateway's public listener. With open
// (metrics.on_main_listener) it answers everyone; otherwise only a client
// on this machine that is not behind a proxy (the contract's GET /metrics,
// for a local scraper), and 404 to anyone else: tip counts per agency tell
// an onlooker when tips arrive. viaOnion reports a request of the onion
// service's own listener, whose connections come from the local Tor daemon
// on behalf of anyone on Tor.
func (m *Metrics) PublicHandler(open bool, viaOnion func(*http.Request) bool) http.Handler {
	h := m.Handler()
	if open {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !directLoopback(r) || viaOnion(r) {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// directLoopback reports whether r comes from this machine and was not
// forwarded by a proxy.
func directLoopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ListenerHandler is what the metrics' own listener (metrics.listen)
// serves: GET /metrics, and 404 to anything else.
func (m *Metrics) ListenerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}
