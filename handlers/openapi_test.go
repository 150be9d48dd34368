package handlers_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/handlers"
	"go.yaml.in/yaml/v3"
)

// TestOpenAPIDocumentsEveryRoute walks the router and checks that every
// route under /api/v1, with each of its methods, is in openapi.yaml, and
// that the document lists no route that does not exist.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	h := newHarness(t)
	_, body := h.api(t, "GET", "/api/v1/openapi.yaml", "", "")
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal([]byte(body), &doc); err != nil || len(doc.Paths) < 10 {
		t.Fatalf("openapi.yaml: %v (%d paths)", err, len(doc.Paths))
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for op := range ops {
			if op != "parameters" {
				documented[strings.ToUpper(op)+" /api/v1"+path] = true
			}
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
