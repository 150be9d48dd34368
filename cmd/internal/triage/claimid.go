package triage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hotline-org/hotline/cmd/internal/termsafe"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// NextID is `triage next ID`: it claims that tip wherever it is in the
// queue and opens it, printed as next prints a tip (--json too), or says
// why it did not and what to do. The tips it passed over stay first in
// line for the next claims.
func (t *Terminal) NextID(id string) error {
	ids, err := t.identities()
	if err != nil {
		return err
	}
	c, rep, err := t.Client.NextID(t.Ctx, ids, id)
	if err != nil {
		return t.explainClaim(id, err)
	}
	return t.printClaimed(ids, c, rep)
}

// explainClaim says why a chosen tip was not claimed, with what to do;
// the gateway's text is made safe for the terminal.
func (t *Terminal) explainClaim(id string, err error) error {
	var ae *officerapi.Error
	if !errors.As(err, &ae) || err != error(ae) {
		return t.Explain(err)
	}
	v := termsafe.String
	var hint string
	switch {
	case ae.Status == 404:
		return fmt.Errorf("tip %s: no such tip in your agency: nothing was claimed\nhint: check the id (hotline triage list shows the open tips of your agency)", v(id))
	case ae.Status == 409 && strings.Contains(ae.Message, "held by"):
		hint = fmt.Sprintf("ask them to release it, or a supervisor; once the lease lapses, hotline triage next %s takes it over", v(id))
	case ae.Status == 409 && strings.Contains(ae.Message, "closed"):
		hint = "a closed tip takes no more actions; hotline triage list shows the open tips"
	case ae.Status == 409 && strings.Contains(ae.Message, "ahead"):
		hint = "hotline triage next claims the tip at the head of the queue (hotline triage list shows the order)"
	default:
		return t.Explain(err)
	}
	return fmt.Errorf("tip %s: %s\nhint: %s", v(id), v(ae.Message), hint)
}
