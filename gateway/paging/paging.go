// Package paging wakes the on-call officers when an urgent tip waits
// unclaimed, and their supervisor if it still waits. A page carries no
// content: only that an urgent tip is waiting, and for which agency. It goes
// to officers' own phones and systems, never to a reporter.
package paging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/hotline-org/hotline/gateway/periodic"
	"github.com/hotline-org/hotline/queue"
)

// Queue is what the pager reads and marks. A mark says that one gateway
// has taken a page on itself; it is removed again when the page reached
// nobody, so that the page is tried again.
type Queue interface {
	Count(ctx context.Context, agency string) (queue.Counts, error)
	MarkOnce(ctx context.Context, agency, name string, ttl time.Duration) (bool, error)
	Unmark(ctx context.Context, agency, name string) error
	Audit(ctx context.Context, agency, action, officer, tip, detail string) error
}

// SMS sends a text message.
type SMS interface {
	Send(ctx context.Context, from, to, body string) error
}

// Target is who is paged at one level.
type Target struct {
	SMS     []string // phone numbers (E.164)
	Webhook string   // URL that receives a JSON POST
}

// Agency is one agency's paging setup.
type Agency struct {
	ID         string
	Name       string
	OnCall     Target
	Supervisor Target
}

// Options configures a Pager.
type Options struct {
	Queue    Queue
	SMS      SMS    // may be nil when no agency pages by SMS
	From     string // the number pages are sent from: see Sender
	Agencies []Agency
	// After is how long an urgent tip may wait unclaimed before the
	// on-call officers are paged; SupervisorAfter before the supervisor is.
	After, SupervisorAfter time.Duration
	// Interval is how often the queue is checked.
	Interval time.Duration
	HTTP     *http.Client
	Logger   *slog.Logger
	Now      func() time.Time
}

// Sender is the number pages are sent from: paging.from when it is set,
// else the first of the hotline's own numbers in sorted order, so that
// every gateway of a deployment pages from the same number.
func Sender(from string, numbers []string) string {
	if from != "" || len(numbers) == 0 {
		return from
	}
	return slices.Min(numbers)
}

// Pager checks the queues and pages.
type Pager struct{ opt Options }

// New returns a pager.
func New(opt Options) *Pager {
	if opt.Interval <= 0 {
		opt.Interval = 30 * time.Second
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Pager{opt: opt}
}

// Run checks every Interval until ctx ends.
func (p *Pager) Run(ctx context.Context) {
	periodic.Run(ctx, p.opt.Interval, p.Check)
}

// Check pages for every agency whose oldest urgent tip has waited too long.
// Each level is paged once per oldest tip, across all gateways.
func (p *Pager) Check(ctx context.Context) {
	for _, a := range p.opt.Agencies {
		c, err := p.opt.Queue.Count(ctx, a.ID)
		if err != nil {
			p.opt.Logger.Warn("paging: queue unavailable", "agency", a.ID, "err", err)
			continue
		}
		oldest, ok := c.OldestWaiting[queue.Urgent]
		if !ok || c.Waiting[queue.Urgent] == 0 {
			continue
		}
		waited := p.opt.Now().Sub(oldest)
		levels := []struct {
			name   string
			after  time.Duration
			target Target
		}{{"oncall", p.opt.After, a.OnCall}, {"supervisor", p.opt.SupervisorAfter, a.Supervisor}}
		for _, l := range levels {
			if l.after <= 0 || waited < l.after || (len(l.target.SMS) == 0 && l.target.Webhook == "") {
				continue
			}
			mark := "page:" + l.name + ":" + strconv.FormatInt(oldest.UnixMilli(), 10)
			first, err := p.opt.Queue.MarkOnce(ctx, a.ID, mark, 24*time.Hour)
			if err != nil {
				p.opt.Logger.Warn("paging: queue unavailable", "agency", a.ID, "err", err)
				continue
			}
			if !first {
				continue
			}
			sent := p.page(ctx, a, l.target, c.Waiting[queue.Urgent])
			if sent == 0 {
				// Nobody was reached: the page is not done, and the next
				// check (of this gateway or another) tries it again.
				if err := p.opt.Queue.Unmark(ctx, a.ID, mark); err != nil {
					p.opt.Logger.Error("paging: a page that reached nobody cannot be retried", "agency", a.ID, "level", l.name, "err", err)
				}
			}
			if err := p.opt.Queue.Audit(ctx, a.ID, queue.AuditPage, "", "", l.name+" "+strconv.Itoa(sent)); err != nil {
				p.opt.Logger.Warn("paging: audit failed", "agency", a.ID, "err", err)
			}
			p.opt.Logger.Info("paged", "agency", a.ID, "level", l.name, "count", sent)
		}
	}
}

// Message is the whole text of a page.
func Message(agencyName string) string {
	return "hotline: an urgent tip is waiting for " + agencyName + "."
}

// page sends to every phone and the webhook, and returns how many got it.
func (p *Pager) page(ctx context.Context, a Agency, t Target, waiting int) int {
	sent := 0
	name := a.Name
	if name == "" {
		name = a.ID
	}
	for _, to := range t.SMS {
		if p.opt.SMS == nil {
			break
		}
		if err := p.opt.SMS.Send(ctx, p.opt.From, to, Message(name)); err != nil {
			p.opt.Logger.Warn("paging: SMS failed", "agency", a.ID, "err", err)
			continue
		}
		sent++
	}
	if t.Webhook != "" {
		if err := p.postWebhook(ctx, t.Webhook, a.ID, waiting); err != nil {
			p.opt.Logger.Warn("paging: webhook failed", "agency", a.ID, "err", err)
		} else {
			sent++
		}
	}
	return sent
}

func (p *Pager) postWebhook(ctx context.Context, url, agency string, waiting int) error {
	body, err := json.Marshal(map[string]any{"event": "urgent_tip_waiting", "agency": agency, "waiting": waiting})
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return errors.New("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.opt.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}
