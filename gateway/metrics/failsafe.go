package metrics

import "github.com/prometheus/client_golang/prometheus"

// FailSafeChecks are the check label's set of hotline_check_failed_safe_total.
var FailSafeChecks = []string{"web_flood"}

func (m *Metrics) registerFailSafe() {
	m.failSafe = counterVec("hotline_check_failed_safe_total",
		"Checks that could not be made (Redis refused or did not answer) and were answered the safe way, by check.", "check")
	for _, c := range FailSafeChecks {
		m.failSafe.WithLabelValues(c)
	}
	m.untrustedXFF = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hotline_untrusted_forwarded_total",
		Help: "Requests that carried X-Forwarded-For from a peer not in web.trusted_proxies (the header was ignored).",
	})
	m.reg.MustRegister(m.failSafe, m.untrustedXFF)
}

// CheckFailedSafe counts a check that could not be made (Redis refused or
// did not answer) and was answered the safe way: the web form's flood check
// then counts as a flood.
func (m *Metrics) CheckFailedSafe(check string) {
	if m == nil {
		return
	}
	m.failSafe.WithLabelValues(oneOf(check, FailSafeChecks)).Inc()
}

// UntrustedForwarded counts a request whose X-Forwarded-For was ignored
// because the peer is not a trusted proxy.
func (m *Metrics) UntrustedForwarded() {
	if m == nil {
		return
	}
	m.untrustedXFF.Inc()
}
