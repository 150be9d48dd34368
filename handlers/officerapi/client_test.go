package officerapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/handlers/officerapi"
)

// fakeGateway answers the API the way the gateway does, and records what
// it was sent.
func fakeGateway(t *testing.T, routes map[string]http.HandlerFunc) (url string, seen *[]string) {
	t.Helper()
	seen = new([]string)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"unknown token"}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		*seen = append(*seen, r.Method+" "+r.URL.EscapedPath()+" "+string(b))
		h, ok := routes[r.Method+" "+r.URL.EscapedPath()]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"no such tip"}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, seen
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestClientCalls(t *testing.T) {
	ctx := context.Background()
	url, seen := fakeGateway(t, map[string]http.HandlerFunc{
		"GET /api/v1/me":                answer(200, `{"id":"o1","agency":"pe-lima","name":"Ana","role":"officer"}`),
		"GET /api/v1/agencies":          answer(200, `{"agencies":[{"id":"pe-lima","name":"Lima","recipients":["age1x"]}]}`),
		"POST /api/v1/tips/claim":       answer(204, ""),
		"GET /api/v1/tips":              answer(200, `{"tips":[]}`),
		"POST /api/v1/tips/a%2Fb/ack":   answer(200, `{"status":"closed"}`),
		"GET /api/v1/tips/t1/notes":     answer(200, `{"notes":[{"officer":"o1","sealed":"AAE="}]}`),
		"POST /api/v1/tips/t1/reply":    answer(200, `{"status":"sent"}`),
		"POST /api/v1/tips/t1/escalate": answer(409, `{"error":"the lease lapsed"}`),
		"POST /api/v1/tips/t1/release":  answer(503, `not json`),
		"POST /api/v1/tips/t1/transfer": answer(200, `{"status":"transferred"}`),
		"POST /api/v1/tips/t1/renew":    answer(200, `{not json`),
		"POST /api/v1/tips/t1/notes":    answer(201, `{"id":"n1","status":"noted"}`),
		"GET /api/v1/tips/t1":           answer(200, `{"id":"t1","state":"held","sealed":"AAE="}`),
	})
	c := officerapi.New(url+"/", "tok", nil)
	if me, err := c.Me(ctx); err != nil || me.Agency != "pe-lima" {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	if as, err := c.Agencies(ctx); err != nil || len(as) != 1 || as[0].Recipients[0] != "age1x" {
		t.Fatalf("Agencies = %+v, %v", as, err)
	}
	if tip, err := c.Claim(ctx); tip != nil || err != nil {
		t.Fatalf("Claim with nothing waiting = %+v, %v", tip, err)
	}
	if tips, err := c.List(ctx); err != nil || tips == nil || len(tips) != 0 {
		t.Fatalf("List = %#v, %v (an empty list stays a list)", tips, err)
	}
	if out, err := c.Ack(ctx, "a/b", "dispatched"); err != nil || out["status"] != "closed" {
		t.Fatalf("Ack = %v, %v", out, err)
	}
	if notes, err := c.Notes(ctx, "t1"); err != nil || len(notes) != 1 || string(notes[0].Sealed) != "\x00\x01" {
		t.Fatalf("Notes = %+v, %v", notes, err)
	}
	if l, err := c.Tip(ctx, "t1"); err != nil || l.State != "held" || len(l.Sealed) != 2 {
		t.Fatalf("Tip = %+v, %v", l, err)
	}
	if _, err := c.Reply(ctx, "t1", officerapi.Reply{Text: "hola"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddNote(ctx, "t1", []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transfer(ctx, "t1", officerapi.Transfer{Agency: "my-kl", Sealed: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	var ae *officerapi.Error
	if _, err := c.Escalate(ctx, "t1", "urgent"); !errors.As(err, &ae) || ae.Status != 409 || ae.Message != "the lease lapsed" {
		t.Fatalf("Escalate refused: %v", err)
	}
	if _, err := c.Release(ctx, "t1"); !errors.As(err, &ae) || ae.Status != 503 || ae.Message != "Service Unavailable" {
		t.Fatalf("Release with a body that is not JSON: %v", err)
	}
	if _, err := c.Renew(ctx, "t1"); err == nil || !strings.Contains(err.Error(), "unexpected answer") {
		t.Fatalf("Renew with a broken answer: %v", err)
	}
	for _, want := range []string{
		`POST /api/v1/tips/a%2Fb/ack {"disposition":"dispatched"}`,
		`POST /api/v1/tips/t1/reply {"text":"hola","override":""}`,
		`POST /api/v1/tips/t1/notes {"sealed":"AQ=="}`,
		`POST /api/v1/tips/t1/transfer {"agency":"my-kl","sealed":"AQ==","notes":null,"followup":""}`,
		`POST /api/v1/tips/t1/escalate {"reason":"urgent"}`,
		`POST /api/v1/tips/claim {}`,
	} {
		if !strings.Contains(strings.Join(*seen, "\n"), want) {
			t.Errorf("the gateway was not sent %s; it saw:\n%s", want, strings.Join(*seen, "\n"))
		}
	}
}

func TestClientErrors(t *testing.T) {
	url, _ := fakeGateway(t, nil)
	bad := officerapi.New(url, "wrong", nil)
	var ae *officerapi.Error
	if _, err := bad.Me(context.Background()); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("a wrong token: %v", err)
	}
	// The gateway's text is quoted, never printed raw.
	if s := (&officerapi.Error{Status: 403, Message: "x\n\x1b[2Jhint: y"}).Error(); strings.ContainsAny(s, "\n\x1b") {
		t.Fatalf("Error() = %q", s)
	}
	if _, err := officerapi.New("http://127.0.0.1:1", "tok", nil).Me(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot reach the gateway") {
		t.Fatalf("no gateway: %v", err)
	}
}

func TestWatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "text/event-stream" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for i := range 3 {
			fmt.Fprintf(w, "event: counts\ndata: {\"waiting\":{\"urgent\":%d}}\n\n", i)
		}
		io.WriteString(w, "event: urgent\ndata: {}\n\n")
	}))
	t.Cleanup(srv.Close)
	c := officerapi.New(srv.URL, "tok", nil)
	var got []string
	err := c.Watch(context.Background(), func(e officerapi.Event) bool {
		got = append(got, e.Name+" "+string(e.Data))
		return true
	})
	if !errors.Is(err, officerapi.ErrStreamClosed) || len(got) != 4 || got[3] != "urgent {}" || got[2] != `counts {"waiting":{"urgent":2}}` {
		t.Fatalf("Watch = %q, %v", got, err)
	}
	got = nil
	if err := c.Watch(context.Background(), func(e officerapi.Event) bool { got = append(got, e.Name); return len(got) < 2 }); err != nil || len(got) != 2 {
		t.Fatalf("Watch stopped by fn after 2: %q, %v", got, err)
	}
}
