package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
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
// operation the router serves method path with. Tests that drive a route
// into one of its failures call it with the status they saw.
func checkDocumented(t testing.TB, h *harness, method, path string, status int) {
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
	if op.Responses.Status(status) == nil {
		t.Errorf("%s (%s %s) answered %d, which openapi.yaml does not document", op.OperationID, method, path, status)
	}
}
