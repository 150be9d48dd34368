package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotline-org/hotline/handlers/officerapi"
)

// hub keeps the queue as the gateway lists it and tells every open page
// when it changed: it lists the queue every PollEvery, and at once when the
// gateway's event stream says something happened.
type hub struct {
	c *Console
	// refreshMu keeps one listing at a time, so that an older list never
	// replaces a newer one.
	refreshMu sync.Mutex
	mu        sync.Mutex
	tips      []officerapi.Listed
	err       error
	print     string
	subs      map[chan event]bool
	kick      chan struct{}
}

func newHub(c *Console) *hub {
	return &hub{c: c, subs: map[chan event]bool{}, kick: make(chan struct{}, 1)}
}

func (h *hub) run(ctx context.Context) {
	go h.watch(ctx)
	t := time.NewTicker(h.c.opt.PollEvery)
	defer t.Stop()
	for {
		start := time.Now()
		h.refresh(ctx)
		// A list that took long (a flood's queue: the gateway reads every
		// open item) is not asked for again at once, however many events
		// come: each console keeps the gateway listing for a fifth of the
		// time at most. A list of a few ms waits a few more.
		rest := time.NewTimer(listRest * time.Since(start))
		select {
		case <-ctx.Done():
			rest.Stop()
			return
		case <-rest.C:
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.kick:
		}
	}
}

// listRest is how many times as long as the last list the hub waits
// before the next one it starts itself (an action's refresh does not wait).
const listRest = 4

// watch follows the gateway's events, reconnecting after a failure.
func (h *hub) watch(ctx context.Context) {
	for ctx.Err() == nil {
		err := h.c.opt.API.Watch(ctx, func(e officerapi.Event) bool {
			switch e.Name {
			case "urgent":
				h.send("urgent")
			case "appended":
				// Only the case's id goes to the pages, re-encoded.
				var a struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(e.Data, &a) == nil && len(a.ID) <= 64 {
					b, _ := json.Marshal(map[string]string{"id": a.ID})
					h.sendData("appended", string(b))
				}
			}
			select {
			case h.kick <- struct{}{}:
			default:
			}
			return true
		})
		if err != nil {
			h.c.opt.Logger.Warn("console: the gateway's event stream failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
		}
	}
}

// refresh lists the queue and tells the pages when it changed. The hub
// calls it on its ticks; an action calls it too, so that the page after it
// shows the queue as it is.
func (h *hub) refresh(ctx context.Context) {
	h.refreshMu.Lock()
	defer h.refreshMu.Unlock()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tips, err := h.c.opt.API.List(lctx)
	if ctx.Err() != nil {
		return
	}
	var b strings.Builder
	for _, t := range tips {
		fmt.Fprintf(&b, "%s|%s|%s|%s|%t|%d\n", t.ID, t.State, t.Holder, t.Priority, t.Escalated, t.MessageCount)
	}
	if err != nil {
		b.WriteString("error")
	}
	h.mu.Lock()
	changed := b.String() != h.print
	h.tips, h.err, h.print = tips, err, b.String()
	h.mu.Unlock()
	if changed {
		h.send("queue")
	}
}

// messages is how many messages case id has in the last list (false: it
// is not in it).
func (h *hub) messages(id string) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.tips {
		if t.ID == id {
			return t.MessageCount, true
		}
	}
	return 0, false
}

// queue is the last list, urgent first, then oldest first.
func (h *hub) queue() ([]officerapi.Listed, error) {
	h.mu.Lock()
	tips, err := slices.Clone(h.tips), h.err
	h.mu.Unlock()
	slices.SortStableFunc(tips, func(a, b officerapi.Listed) int {
		if (a.Priority == "urgent") != (b.Priority == "urgent") {
			if a.Priority == "urgent" {
				return -1
			}
			return 1
		}
		return a.ReceivedAt.Compare(b.ReceivedAt)
	})
	return tips, err
}

// event is one server-sent event to a page.
type event struct{ name, data string }

func (h *hub) send(name string) { h.sendData(name, "{}") }

func (h *hub) sendData(name, data string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- event{name, data}:
		default: // a slow page catches up on the next change
		}
	}
}

func (h *hub) subscribe() chan event {
	ch := make(chan event, 8)
	h.mu.Lock()
	h.subs[ch] = true
	h.mu.Unlock()
	return ch
}

func (h *hub) unsubscribe(ch chan event) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// events streams "queue", "urgent" and "appended" to a page. With ?case=ID
// (a case page), it also renews the lease of that case while the page is
// open, and tells the page whether renewing worked: that acts for the
// officer, so it is done only for the console's own pages, as a POST is
// (a page on another port of this machine is same-site: the cookie goes
// with its requests). With &seen=N too (the messages the page shows), a
// message appended before the stream opened, whose gateway event the page
// could not hear, is told as "appended" as soon as the queue's list shows
// it: at once, or at the next change of the list.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	caseID := r.URL.Query().Get("case")
	if len(caseID) > 64 || strings.ContainsAny(caseID, "/?#") {
		http.Error(w, "bad case", http.StatusBadRequest)
		return
	}
	seen := -1 // not told
	if s := r.URL.Query().Get("seen"); s != "" && caseID != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1<<20 {
			http.Error(w, "bad seen", http.StatusBadRequest)
			return
		}
		seen = n
	}
	if caseID != "" && !c.sameOrigin(r) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	ch := c.hub.subscribe()
	defer c.hub.unsubscribe(ch)
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	var renew <-chan time.Time
	if caseID != "" {
		t := time.NewTicker(c.opt.RenewEvery)
		defer t.Stop()
		renew = t.C
	}
	fmt.Fprint(w, "retry: 2000\n\n")
	// catchUp tells the page of messages the list has and it does not show.
	catchUp := func() {
		if seen < 0 {
			return
		}
		if n, ok := c.hub.messages(caseID); ok && n > seen {
			seen = n
			b, _ := json.Marshal(map[string]string{"id": caseID})
			fmt.Fprintf(w, "event: appended\ndata: %s\n\n", b)
		}
	}
	catchUp()
	for {
		rc.SetWriteDeadline(time.Now().Add(time.Minute))
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case ev := <-ch:
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, ev.data)
			if ev.name == "queue" {
				catchUp()
			}
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case <-renew:
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			_, err := c.opt.API.Renew(ctx, caseID)
			cancel()
			if err != nil {
				fmt.Fprint(w, "event: renew\ndata: {\"ok\":false}\n\n")
			} else {
				fmt.Fprint(w, "event: renew\ndata: {\"ok\":true}\n\n")
			}
		}
	}
}
