package officerapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/handlers/officerapi"
)

// TestClientClaimTip: ClaimTip posts to the chosen tip's claim route (its
// id escaped) and returns the tip, or the gateway's refusal as an *Error.
func TestClientClaimTip(t *testing.T) {
	url, seen := fakeGateway(t, map[string]http.HandlerFunc{
		"POST /api/v1/tips/a%2Fb/claim": answer(200, `{"id":"a/b","case":"C1","deliveries":1,"sealed":"AAE="}`),
		"POST /api/v1/tips/t2/claim":    answer(409, `{"error":"held by o2 until 2026-03-01T04:20:06Z: nothing was claimed"}`),
	})
	c := officerapi.New(url, "tok", nil)
	tip, err := c.ClaimTip(context.Background(), "a/b")
	if err != nil || tip.ID != "a/b" || tip.Case != "C1" || string(tip.Sealed) != "\x00\x01" {
		t.Fatalf("ClaimTip = %+v, %v", tip, err)
	}
	var ae *officerapi.Error
	if tip, err := c.ClaimTip(context.Background(), "t2"); tip != nil || !errors.As(err, &ae) || ae.Status != 409 || !strings.Contains(ae.Message, "held by o2") {
		t.Fatalf("ClaimTip of a held tip = %+v, %v", tip, err)
	}
	if got := strings.Join(*seen, "\n"); !strings.Contains(got, "POST /api/v1/tips/a%2Fb/claim {}") {
		t.Fatalf("the gateway saw:\n%s", got)
	}
}
