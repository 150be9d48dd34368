package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/handlers"
	"go.yaml.in/yaml/v3"
)

// loadOpenAPI parses openapi.yaml with kin-openapi, once per test binary.
var loadOpenAPI = sync.OnceValues(func() (*openapi3.T, error) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		return nil, err
	}
	return openapi3.NewLoader().LoadFromData(b)
})

func openAPIDoc(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := loadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// TestOpenAPIIsValid lints openapi.yaml with a real OpenAPI 3.1 validator
// (kin-openapi, pinned in go.mod), examples included, and checks what the
// validator does not: every operation has a stable camelCase operationId,
// documents the answers every operation can give, and describes each error
// with the one body the handlers write; every component is used.
func TestOpenAPIIsValid(t *testing.T) {
	doc := openAPIDoc(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi: %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation(), openapi3.EnableSchemaPatternValidation()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}

	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			switch {
			case op.OperationID == "":
				t.Errorf("%s has no operationId", where)
			case !camel.MatchString(op.OperationID):
				t.Errorf("%s: operationId %q is not camelCase", where, op.OperationID)
			case ids[op.OperationID] != "":
				t.Errorf("%s: operationId %q is also %s", where, op.OperationID, ids[op.OperationID])
			}
			ids[op.OperationID] = where
			if path == "/openapi.yaml" {
				if op.Security == nil || len(*op.Security) != 0 {
					t.Errorf("%s: must be served without a token (security: [])", where)
				}
				continue
			}
			want := []int{http.StatusUnauthorized, http.StatusServiceUnavailable}
			if strings.Contains(path, "{agency}") {
				want = append(want, http.StatusForbidden)
			}
			if strings.Contains(path, "{id}") {
				want = append(want, http.StatusNotFound)
			}
			if op.RequestBody != nil {
				want = append(want, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
			}
			for _, status := range want {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s does not document %d", where, status)
				}
			}
			for code, r := range op.Responses.Map() {
				if n, _ := strconv.Atoi(code); n < 400 {
					continue
				}
				mt := r.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Error" {
					t.Errorf("%s %s: the body must be components/schemas/Error", where, code)
				}
			}
		}
	}
	if len(ids) < 30 {
		t.Errorf("only %d operations", len(ids))
	}

	// Every component is referenced somewhere.
	raw, _ := os.ReadFile("openapi.yaml")
	var tree struct {
		Security   []map[string]any          `yaml:"security"`
		Components map[string]map[string]any `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	refs := string(raw)
	for kind, items := range tree.Components {
		for name := range items {
			used := strings.Contains(refs, `"#/components/`+kind+`/`+name+`"`)
			if kind == "securitySchemes" {
				used = slices.ContainsFunc(tree.Security, func(s map[string]any) bool { return s[name] != nil })
			}
			if !used {
				t.Errorf("components.%s.%s is never referenced", kind, name)
			}
		}
	}
}

// TestOpenAPIDocumentsEveryRoute walks the router and checks that every
// route under /api/v1, with each of its methods, is in openapi.yaml, and
// that the document lists no route that does not exist.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	h := newHarness(t)
	_, body := h.api(t, "GET", "/api/v1/openapi.yaml", "", "")
	if raw, _ := os.ReadFile("openapi.yaml"); body != string(raw) {
		t.Fatal("GET /api/v1/openapi.yaml does not serve openapi.yaml")
	}
	documented := map[string]bool{}
	for path, item := range openAPIDoc(t).Paths.Map() {
		for method := range item.Operations() {
			documented[method+" /api/v1"+path] = true
		}
	}
	routed := map[string]bool{}
	var r *mux.Router = handlers.RouterForTest(h.h)
	r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		methods, merr := route.GetMethods()
		if err != nil || merr != nil || !strings.HasPrefix(tpl, "/api/v1/") {
			return nil
		}
		for _, m := range methods {
			if m == http.MethodHead {
				continue
			}
			routed[m+" "+tpl] = true
		}
		return nil
	})
	if len(routed) < 20 {
		t.Fatalf("only %d API routes found: %v", len(routed), routed)
	}
	for k := range routed {
		if !documented[k] {
			t.Errorf("route %s is not in openapi.yaml", k)
		}
	}
	param := regexp.MustCompile(`\{[a-z]+\}`)
	for k := range documented {
		if !routed[k] {
			t.Errorf("openapi.yaml documents %s, which the router does not serve", param.ReplaceAllString(k, "{}"))
		}
	}
}

// checkDocumented fails the test unless status is documented for the
// operation the router serves method path with and, when body is given and
// the document describes a JSON body for that status, body matches its
// schema. Tests that drive a route into one of its failures call it with
// what they got.
func checkDocumented(t testing.TB, h *harness, method, path string, status int, body string) {
	t.Helper()
	var m mux.RouteMatch
	if !handlers.RouterForTest(h.h).Match(httptest.NewRequest(method, path, nil), &m) || m.Route == nil || m.MatchErr != nil {
		t.Errorf("%s %s: no route", method, path)
		return
	}
	tpl, _ := m.Route.GetPathTemplate()
	item := openAPIDoc(t).Paths.Value(strings.TrimPrefix(tpl, "/api/v1"))
	if item == nil || item.GetOperation(method) == nil {
		t.Errorf("%s %s: %s is not in openapi.yaml", method, path, tpl)
		return
	}
	op := item.GetOperation(method)
	r := op.Responses.Status(status)
	if r == nil {
		t.Errorf("%s (%s %s) answered %d, which openapi.yaml does not document", op.OperationID, method, path, status)
		return
	}
	mt := r.Value.Content.Get("application/json")
	if body == "" || mt == nil || mt.Schema == nil {
		return
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Errorf("%s (%s %s) %d: body is not JSON: %q", op.OperationID, method, path, status, body)
		return
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s (%s %s) %d: body %q does not match the document: %v", op.OperationID, method, path, status, body, err)
	}
}

// allowSwitch is a reply limiter that a test turns off.
type allowSwitch struct{ deny atomic.Bool }

func (a *allowSwitch) Allow(context.Context, string) bool { return !a.deny.Load() }

// TestOpenAPIDocumentsEveryFailure drives each officer route into the
// failures it can answer (bad and oversized bodies, unknown tips, a tip
// held by someone else, the supervisors-only trail, the reply limits) and
// checks the status is the one the code means and that openapi.yaml
// documents it, with the body the document describes (the successful
// answers' bodies are checked on the way). 401, 403 for another
// agency and 503 are driven by TestEveryAPIRouteRefusesBadTokens and
// TestRedisDownIs503.
func TestOpenAPIDocumentsEveryFailure(t *testing.T) {
	limit := &allowSwitch{}
	h := newHarnessChannel(t, func(_ *gatewaytest.Stack, o *handlers.Options) { withAgencies(o) },
		func(_ *gatewaytest.Stack, o *sms.Options) { o.ReplyDestination = limit })
	holder, other := h.officer(t, "pe-lima"), h.officer(t, "pe-lima")
	sup := h.supervisor(t, "pe-lima")
	if s, b := h.postSMS(t, smsForm("SMopenapi", "+51987650009", "ayuda"), addValidSignature); s != 200 {
		t.Fatalf("webhook: %d %s", s, b)
	}
	tip := h.claimTip(t, holder)
	jsonOf := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	note := h.addNote(t, "pe-lima", holder, tip.ID, "n")
	transfer := jsonOf(map[string]any{"agency": "my-kl", "sealed": sealNote(t, h.Identities["my-kl"], "x"), "notes": [][]byte{}})
	// The answers that succeed match the document too.
	for _, r := range []struct{ method, path, token string }{
		{"GET", "/api/v1/me", holder}, {"GET", "/api/v1/agencies", holder}, {"GET", "/api/v1/tips", holder},
		{"GET", "/api/v1/agencies/pe-lima/tips", holder}, {"GET", "/api/v1/counts", holder}, {"GET", "/api/v1/audit", sup},
		{"GET", "/api/v1/tips/" + tip.ID, holder}, {"GET", "/api/v1/tips/" + tip.ID + "/notes", sup},
		{"POST", "/api/v1/tips/" + tip.ID + "/renew", holder},
		{"POST", "/api/v1/tips/" + tip.ID + "/claim", holder},
	} {
		s, b := h.api(t, r.method, r.path, r.token, "")
		if s != http.StatusOK {
			t.Errorf("%s %s: %d %s", r.method, r.path, s, b)
		}
		checkDocumented(t, h, r.method, r.path, s, b)
	}
	const unknown = "abcdefghijklmnopqrstuvwxyz"
	tipPath, unknownPath := "/api/v1/tips/"+tip.ID, "/api/v1/tips/"+unknown
	padded := func(field string, n int) string { return `{"` + field + `":"` + strings.Repeat("A", n) + `"}` }

	for _, tc := range []struct {
		name, method, path, token, body string
		before                          func()
		want                            int
	}{
		{name: "audit, an officer", method: "GET", path: "/api/v1/audit", token: other, want: 403},
		{name: "audit, bad after", method: "GET", path: "/api/v1/audit?after=x", token: sup, want: 400},
		{name: "agency audit, bad after", method: "GET", path: "/api/v1/agencies/pe-lima/audit?after=x", token: sup, want: 400},
		{name: "claim, none waiting", method: "POST", path: "/api/v1/tips/claim", token: other, body: "{}", want: 204},
		{name: "claim chosen, held by another", method: "POST", path: tipPath + "/claim", token: other, body: "{}", want: 409},
		{name: "agency claim chosen, held by another", method: "POST", path: "/api/v1/agencies/pe-lima/tips/" + tip.ID + "/claim", token: other, want: 409},
		{name: "claim chosen, unknown", method: "POST", path: unknownPath + "/claim", token: other, want: 404},
		{name: "tip, unknown", method: "GET", path: unknownPath, token: holder, want: 404},
		{name: "tip, not holder", method: "GET", path: tipPath, token: other, want: 403},
		{name: "agency tip, unknown", method: "GET", path: "/api/v1/agencies/pe-lima/tips/" + unknown, token: holder, want: 404},
		{name: "notes, unknown", method: "GET", path: unknownPath + "/notes", token: holder, want: 404},
		{name: "notes, not holder", method: "GET", path: tipPath + "/notes", token: other, want: 403},
		{name: "note, not holder", method: "POST", path: tipPath + "/notes", token: other, body: note, want: 403},
		{name: "note, unknown", method: "POST", path: unknownPath + "/notes", token: holder, body: note, want: 404},
		{name: "note, not an age file", method: "POST", path: tipPath + "/notes", token: holder, body: `{"sealed":"eA=="}`, want: 400},
		{name: "note, unknown field", method: "POST", path: tipPath + "/notes", token: holder, body: `{"text":"x"}`, want: 400},
		{name: "note, too large", method: "POST", path: tipPath + "/notes", token: holder, body: padded("sealed", 600<<10), want: 413},
		{name: "ack, not holder", method: "POST", path: tipPath + "/ack", token: other, body: `{"disposition":"dispatched"}`, want: 409},
		{name: "agency ack, not holder", method: "POST", path: "/api/v1/agencies/pe-lima/tips/" + tip.ID + "/ack", token: other, body: `{"disposition":"dispatched"}`, want: 409},
		{name: "ack, unknown", method: "POST", path: unknownPath + "/ack", token: holder, body: `{"disposition":"dispatched"}`, want: 404},
		{name: "ack, bad disposition", method: "POST", path: tipPath + "/ack", token: holder, body: `{"disposition":"maybe"}`, want: 400},
		{name: "ack, not JSON", method: "POST", path: tipPath + "/ack", token: holder, body: `disposition=dispatched`, want: 400},
		{name: "ack, too large", method: "POST", path: tipPath + "/ack", token: holder, body: padded("disposition", 9<<10), want: 413},
		{name: "release, not holder", method: "POST", path: tipPath + "/release", token: other, body: "{}", want: 409},
		{name: "release, unknown", method: "POST", path: unknownPath + "/release", token: holder, body: "{}", want: 404},
		{name: "renew, not holder", method: "POST", path: tipPath + "/renew", token: other, body: "{}", want: 409},
		{name: "renew, unknown", method: "POST", path: unknownPath + "/renew", token: holder, body: "{}", want: 404},
		{name: "escalate, not holder", method: "POST", path: tipPath + "/escalate", token: other, body: `{"reason":"urgent"}`, want: 409},
		{name: "escalate, unknown", method: "POST", path: unknownPath + "/escalate", token: holder, body: `{"reason":"urgent"}`, want: 404},
		{name: "escalate, bad reason", method: "POST", path: tipPath + "/escalate", token: holder, body: `{"reason":"bored"}`, want: 400},
		{name: "escalate, too large", method: "POST", path: tipPath + "/escalate", token: holder, body: padded("reason", 9<<10), want: 413},
		{name: "transfer, unknown agency", method: "POST", path: tipPath + "/transfer", token: holder, body: strings.Replace(transfer, "my-kl", "nowhere", 1), want: 400},
		{name: "transfer, not holder", method: "POST", path: tipPath + "/transfer", token: other, body: transfer, want: 409},
		{name: "transfer, unknown", method: "POST", path: unknownPath + "/transfer", token: holder, body: transfer, want: 404},
		{name: "transfer, a note missing", method: "POST", path: tipPath + "/transfer", token: holder, body: transfer, want: 409},
		{name: "reply, not holder", method: "POST", path: tipPath + "/reply", token: other, body: `{"text":"hola"}`, want: 403},
		{name: "reply, unknown", method: "POST", path: unknownPath + "/reply", token: holder, body: `{"text":"hola"}`, want: 404},
		{name: "reply, empty", method: "POST", path: tipPath + "/reply", token: holder, body: `{"text":""}`, want: 400},
		{name: "reply, bad override", method: "POST", path: tipPath + "/reply", token: holder, body: `{"text":"hola","override":"bored"}`, want: 400},
		{name: "reply, too large", method: "POST", path: tipPath + "/reply", token: holder, body: padded("text", 6*followup.MaxMessageChars+5<<10), want: 413},
		{name: "reply, Twilio refuses", method: "POST", path: tipPath + "/reply", token: holder, body: `{"text":"hola"}`,
			before: func() { h.fake.mu.Lock(); h.fake.sendFail = 1; h.fake.mu.Unlock() }, want: 502},
		{name: "reply, rate limited", method: "POST", path: tipPath + "/reply", token: holder, body: `{"text":"hola"}`,
			before: func() { limit.deny.Store(true) }, want: 429},
		{name: "reply, outside the window", method: "POST", path: tipPath + "/reply", token: holder, body: `{"text":"hola"}`,
			before: func() { limit.deny.Store(false); h.clock.add(time.Hour) }, want: 409},
	} {
		if tc.before != nil {
			tc.before()
		}
		s, b := h.api(t, tc.method, tc.path, tc.token, tc.body)
		if s != tc.want {
			t.Errorf("%s: %s %s: %d %s, want %d", tc.name, tc.method, tc.path, s, b, tc.want)
		}
		checkDocumented(t, h, tc.method, tc.path, s, b)
	}
	s, b := h.api(t, "POST", tipPath+"/ack", holder, `{"disposition":"dispatched"}`)
	if s != 200 {
		t.Fatalf("the refused requests changed the tip: ack by its holder: %d %s", s, b)
	}
	checkDocumented(t, h, "POST", tipPath+"/ack", s, b)
	s, b = h.api(t, "POST", tipPath+"/claim", other, "")
	if s != http.StatusConflict || !strings.Contains(b, "closed as dispatched") {
		t.Errorf("claim of the closed tip: %d %s, want 409 saying it is closed as dispatched", s, b)
	}
	checkDocumented(t, h, "POST", tipPath+"/claim", s, b)
}
