package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/handlers"
)

// TestClaimChosenTip (issue 14, `triage next ID`): an officer claims the
// second waiting tip by its id; the first is the next one handed out; a
// colleague asking for the held tip is told who holds it, an unknown id is
// 404, and another agency's path is 403.
func TestClaimChosenTip(t *testing.T) {
	h := newHarness(t)
	ana, bo := h.officer(t, "pe-lima"), h.officer(t, "pe-lima")
	for i, from := range []string{"+51987650011", "+51987650012"} {
		if s, b := h.postSMS(t, smsForm(fmt.Sprintf("SMchosen%d", i), from, "ayuda"), addValidSignature); s != 200 {
			t.Fatalf("webhook: %d %s", s, b)
		}
	}
	s, b := h.api(t, "GET", "/api/v1/tips", ana, "")
	var list struct{ Tips []handlers.ListedJSON }
	if s != 200 || json.Unmarshal([]byte(b), &list) != nil || len(list.Tips) != 2 {
		t.Fatalf("list: %d %s", s, b)
	}
	first, second := list.Tips[0].ID, list.Tips[1].ID

	s, b = h.api(t, "POST", "/api/v1/tips/"+second+"/claim", ana, "")
	var got handlers.TipJSON
	if s != 200 || json.Unmarshal([]byte(b), &got) != nil || got.ID != second || len(got.Sealed) == 0 || got.Deliveries != 1 {
		t.Fatalf("ana claims %s: %d %s", second, s, b)
	}
	if c := h.claimTip(t, bo); c.ID != first {
		t.Fatalf("bo's next claim is %s, want %s (the tip ana passed over)", c.ID, first)
	}
	var me struct{ ID string }
	if s, b := h.api(t, "GET", "/api/v1/me", ana, ""); s != 200 || json.Unmarshal([]byte(b), &me) != nil {
		t.Fatalf("me: %d %s", s, b)
	}
	for _, path := range []string{"/api/v1/tips/" + second + "/claim", "/api/v1/agencies/pe-lima/tips/" + second + "/claim"} {
		s, b = h.api(t, "POST", path, bo, "")
		if s != http.StatusConflict || !strings.Contains(b, "held by "+me.ID+" until ") {
			t.Errorf("bo claims ana's tip at %s: %d %s, want 409 naming ana", path, s, b)
		}
	}
	if s, b = h.api(t, "POST", "/api/v1/tips/nosuchtip/claim", bo, ""); s != http.StatusNotFound {
		t.Errorf("unknown tip: %d %s, want 404", s, b)
	}
	if s, b = h.api(t, "POST", "/api/v1/agencies/my-kl/tips/"+second+"/claim", bo, ""); s != http.StatusForbidden {
		t.Errorf("another agency's path: %d %s, want 403", s, b)
	}
}
