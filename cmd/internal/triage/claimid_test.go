package triage

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/handlers/officerapi"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

// TestNextIDClaimsThatTip (issue 14: `triage next ID` ignored the id):
// against a real gateway, next ID claims the second waiting tip and prints
// it; the first is the next one handed out; a colleague asking for it is
// told who holds it and what to do; an unknown id and a closed tip are
// refused with what happened and what to do next.
func TestNextIDClaimsThatTip(t *testing.T) {
	ctx := context.Background()
	st := newOfficerStack(t)
	s := st.Stack
	beto, _, err := officer.New(s.Queue).Add(ctx, gatewaytest.Lima, "Beto", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	var tips []string
	for _, text := range []string{"primero en la cola", "segundo en la cola"} {
		r, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		tips = append(tips, r.TipID)
	}
	var out, errOut bytes.Buffer
	term := func(tok string) *Terminal {
		out.Reset()
		errOut.Reset()
		return &Terminal{Ctx: ctx, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
			Client: officerapi.New(st.srv.URL, tok, nil), IdentityPath: st.identity}
	}
	if err := term(st.token).NextID(tips[1]); err != nil || !strings.Contains(out.String(), "segundo en la cola") ||
		!strings.Contains(out.String(), "tip "+tips[1]) || !strings.Contains(out.String(), "lease until") {
		t.Fatalf("next %s: %v\n%s", tips[1], err, out.String())
	}
	if err := term(beto).Next(); err != nil || !strings.Contains(out.String(), "primero en la cola") {
		t.Fatalf("beto's next after the chosen claim: %v\n%s", err, out.String())
	}
	ana := mustOfficerID(t, s, st.token)
	for _, c := range []struct {
		tok, id string
		before  func()
		want    []string
	}{
		{tok: beto, id: tips[1], want: []string{"tip " + tips[1] + ": held by " + ana + " until ", "nothing was claimed", "hint: ask them to release it"}},
		{tok: beto, id: "nosuchtip", want: []string{"tip nosuchtip: no such tip in your agency: nothing was claimed", "hotline triage list"}},
		{tok: beto, id: tips[1], before: func() {
			if err := s.Queue.Ack(ctx, gatewaytest.Lima, tips[1], ana, queue.Referred); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"closed as referred by " + ana, "nothing was claimed", "hint: a closed tip takes no more actions"}},
	} {
		if c.before != nil {
			c.before()
		}
		tr := term(c.tok)
		err := tr.ExplainTip(c.id, tr.NextID(c.id))
		if err == nil {
			t.Fatalf("next %s claimed: %s", c.id, out.String())
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("next %s: %q, want it to say %q", c.id, err, w)
			}
		}
		if out.Len() != 0 {
			t.Errorf("next %s printed %q on a refusal", c.id, out.String())
		}
	}
	// Beto still holds the first tip and nothing else.
	list, err := s.Queue.List(ctx, gatewaytest.Lima, 0)
	if err != nil || len(list) != 1 || list[0].TipID != tips[0] || list[0].State != queue.StateHeld || time.Until(list[0].LeaseUntil) <= 0 {
		t.Fatalf("open tips after the refusals: %+v, %v", list, err)
	}
}
