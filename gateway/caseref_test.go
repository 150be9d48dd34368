package gateway_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
)

// TestTipOfAKnownCase: a tip may name its case (a witness's answer on
// /followup) and the agencies working it; it is then filed and routed so,
// whatever its text says.
func TestTipOfAKnownCase(t *testing.T) {
	s := gatewaytest.New(t)
	ctx := context.Background()
	ref := gateway.NewCaseRef()
	if !gateway.ValidCaseRef(ref) {
		t.Fatalf("NewCaseRef() = %q is not valid", ref)
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFG1", "abcd-efgh", "ABCD_EFGH", "ABCD-EFGHI"} {
		if gateway.ValidCaseRef(bad) {
			t.Errorf("ValidCaseRef(%q) = true", bad)
		}
	}
	rcpt, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "answer: twelve people, Lima -12.05 -77.04",
		Case: ref, Agencies: []string{gatewaytest.KL}, Followup: "abcdefghijklmnopqrstuvwxyz"})
	if err != nil || rcpt.Case != ref {
		t.Fatalf("Submit = %+v, %v", rcpt, err)
	}
	c, err := s.Queue.Claim(ctx, gatewaytest.KL, "o")
	if err != nil {
		t.Fatalf("the tip did not go to the case's agency: %v", err)
	}
	rep := s.Open(t, c)
	if rep.Case != ref || rep.Routing.Reason != gateway.ReasonCase || rep.Followup != "abcdefghijklmnopqrstuvwxyz" {
		t.Errorf("report %+v", rep)
	}
	if _, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "x", Case: "not-a-case"}); !errors.Is(err, gateway.ErrBadCase) {
		t.Errorf("malformed case: %v, want ErrBadCase", err)
	}
}
