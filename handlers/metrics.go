package handlers

import (
	"errors"
	"net/http"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/queue"
)

// Metrics counts rejected requests. A reason is one of a fixed set: nothing
// of the request itself reaches a metric.
type Metrics interface {
	Rejected(r metrics.Reason)
}

// reject counts a rejection decided by a handler itself (a honeypot field,
// a rate limit answered without an error).
func (s *Server) reject(r metrics.Reason) {
	if s.opt.Metrics != nil {
		s.opt.Metrics.Rejected(r)
	}
}

// countRejected counts an error answered on a route that takes tips.
func (s *Server) countRejected(err error, status int) {
	if r, ok := rejectReason(err, status); ok {
		s.reject(r)
	}
}

// rejectReason maps an error and the status it is answered with to a
// reason; ok is false for answers that are not rejections of a tip (a
// readiness probe's 503, a 404).
func rejectReason(err error, status int) (metrics.Reason, bool) {
	switch {
	case status == http.StatusTooManyRequests:
		return metrics.RateLimited, true
	case errors.Is(err, errForbidden):
		return metrics.BadSignature, true
	case status == http.StatusRequestEntityTooLarge:
		return metrics.TooLarge, true
	case errors.Is(err, gateway.ErrInFlight):
		return metrics.InFlight, true
	case errors.Is(err, gateway.ErrUnavailable), errors.Is(err, queue.ErrUnavailable):
		return metrics.Unavailable, true
	case status == http.StatusBadRequest:
		return metrics.BadRequest, true
	}
	return 0, false
}
