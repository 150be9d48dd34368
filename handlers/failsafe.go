package handlers

import "time"

// Checks that, when they cannot be made, are answered the safe way and
// counted (hotline_check_failed_safe_total).
const (
	// CheckWebFlood is the web form's flood check: unknown counts as a flood,
	// so the form asks for proof of work.
	CheckWebFlood = "web_flood"
)

// FailSafeCounter is implemented by metrics that count checks which could
// not be made and were answered the safe way. It is separate from Metrics so
// that a Metrics that does not count them still works.
type FailSafeCounter interface {
	CheckFailedSafe(check string)
}

func (s *Server) countFailedSafe(check string) {
	if c, ok := s.opt.Metrics.(FailSafeCounter); ok {
		c.CheckFailedSafe(check)
	}
}

// checkFailLogEvery bounds how often a failing check is logged.
const checkFailLogEvery = time.Minute

// checkFailed counts a check of the guard that could not be made, and logs
// it at most once a minute (a Redis outage would otherwise log every post).
func (g *guard) checkFailed(check string, err error) {
	if g.failedSafe != nil {
		g.failedSafe(check)
	}
	now := time.Now()
	g.mu.Lock()
	last := g.lastCheckLog
	if now.Sub(last) >= checkFailLogEvery {
		g.lastCheckLog = now
	}
	g.mu.Unlock()
	if now.Sub(last) >= checkFailLogEvery {
		g.log.Warn("web: check failed, answered the safe way", "check", check, "err", err)
	}
}
