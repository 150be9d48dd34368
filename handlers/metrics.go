package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/queue"
)

// Metrics counts rejected requests. A reason and a route are each one of
// a fixed set: nothing of the request itself reaches a metric.
type Metrics interface {
	Rejected(route metrics.Route, r metrics.Reason)
}

// reject counts a rejection of r decided by a handler itself (a honeypot
// field, a rate limit answered without an error).
func (s *Server) reject(r *http.Request, reason metrics.Reason) {
	if s.opt.Metrics != nil {
		s.opt.Metrics.Rejected(routeOf(r.URL.Path), reason)
	}
}

// countRejected counts an error answered to r.
func (s *Server) countRejected(r *http.Request, err error, status int) {
	if reason, ok := rejectReason(err, status); ok {
		s.reject(r, reason)
	}
}

// routeOf names the route of a request's path for hotline_rejected_total:
// "other" for anything but the webhooks, the form and the API.
func routeOf(path string) metrics.Route {
	switch {
	case strings.HasPrefix(path, "/twilio/voice"):
		return metrics.RouteVoice
	case strings.HasPrefix(path, "/twilio/"):
		return metrics.RouteMessaging
	case strings.HasPrefix(path, "/api/"):
		return metrics.RouteAPI
	case path == "/report" || path == "/followup":
		return metrics.RouteWeb
	}
	return 0
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
