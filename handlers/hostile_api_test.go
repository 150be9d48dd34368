package handlers_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue/officer"
)

// TestEveryAPIRouteRefusesBadTokens walks the router: every officer-API
// route, with no token, a garbage one, a revoked one, and (on the routes
// that name an agency) another agency's, is refused as it should be, and
// nothing is written to Redis; openapi.yaml documents each answer.
func TestEveryAPIRouteRefusesBadTokens(t *testing.T) {
	h := newHarness(t)
	revoked := h.officer(t, "pe-lima")
	kl := h.officer(t, "my-kl")
	id := strings.Split(strings.TrimPrefix(revoked, "hlo_"), "_")[0]
	if err := officer.New(h.Queue).Revoke(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	before := h.Redis.Keys(t)
	sort.Strings(before)
	type route struct{ method, path string }
	var routes []route
	handlers.RouterForTest(h.h).Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		methods, merr := r.GetMethods()
		if err != nil || merr != nil || !strings.HasPrefix(tpl, "/api/v1/") || tpl == "/api/v1/openapi.yaml" {
			return nil
		}
		path := strings.NewReplacer("{agency}", "pe-lima", "{id}", "abcdefghijklmnopqrstuvwxyz").Replace(tpl)
		for _, m := range methods {
			if m != http.MethodHead {
				routes = append(routes, route{m, path})
			}
		}
		return nil
	})
	if len(routes) < 25 {
		t.Fatalf("only %d routes walked", len(routes))
	}
	body := `{"disposition":"dispatched","reason":"urgent","text":"x","agency":"my-kl","sealed":"eA=="}`
	for _, r := range routes {
		for name, tok := range map[string]string{"none": "", "garbage": "hlo_garbage_token", "revoked": revoked} {
			s, b := h.api(t, r.method, r.path, tok, body)
			if s != http.StatusUnauthorized || strings.Contains(b, "abcdefghij") {
				t.Errorf("%s %s with %s token: %d %q, want 401", r.method, r.path, name, s, b)
			}
			checkDocumented(t, h, r.method, r.path, s, b)
		}
		if strings.Contains(r.path, "/agencies/pe-lima/") {
			s, b := h.api(t, r.method, r.path, kl, body)
			if s != http.StatusForbidden {
				t.Errorf("%s %s with another agency's token: %d, want 403", r.method, r.path, s)
			}
			checkDocumented(t, h, r.method, r.path, s, b)
		}
	}
	after := h.Redis.Keys(t)
	sort.Strings(after)
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Fatalf("refused requests wrote to Redis:\nbefore %v\nafter  %v", before, after)
	}
}
