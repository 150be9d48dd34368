package officerapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/handlers/officerapi"
	"github.com/hotline-org/hotline/queue/officer"
)

// TestConsoleCalls drives Regions, Officers and VerifyAudit against the
// gateway's real handlers, queue and officers on Redis.
func TestConsoleCalls(t *testing.T) {
	ctx := context.Background()
	s := gatewaytest.New(t)
	ix, err := geo.Load(gatewaytest.Regions)
	if err != nil {
		t.Fatal(err)
	}
	lima, err := ix.Drawing([]string{"lima"})
	if err != nil {
		t.Fatal(err)
	}
	store := officer.New(s.Queue)
	srv := httptest.NewServer(handlers.New(handlers.Options{Triage: s.Queue, Officers: store,
		Regions: map[string][]byte{gatewaytest.Lima: lima}}))
	t.Cleanup(srv.Close)
	supTok, sup, err := store.Add(ctx, gatewaytest.Lima, "Carla", officer.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	offTok, _, err := store.Add(ctx, gatewaytest.Lima, "Ana", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	c, plain := officerapi.New(srv.URL, supTok, nil), officerapi.New(srv.URL, offTok, nil)

	m, err := plain.Regions(ctx, nil)
	if err != nil || string(m.GeoJSON) != string(lima) || m.ETag == "" {
		t.Fatalf("Regions = %q %q, %v", m.GeoJSON, m.ETag, err)
	}
	again, err := plain.Regions(ctx, &m)
	if err != nil || &again.GeoJSON[0] != &m.GeoJSON[0] {
		t.Fatalf("Regions with the current copy: %v (want the copy held, unchanged)", err)
	}
	stale := officerapi.RegionMap{GeoJSON: []byte("{}"), ETag: `"old"`}
	if m2, err := plain.Regions(ctx, &stale); err != nil || string(m2.GeoJSON) != string(lima) {
		t.Fatalf("Regions with a stale copy = %q, %v", m2.GeoJSON, err)
	}

	list, err := c.Officers(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("Officers = %+v, %v", list, err)
	}
	for _, o := range list { // added in the same millisecond, they may come in either order
		if o.Name == "Carla" && (o.ID != sup.ID || o.Role != "supervisor" || o.Token != "active") || o.Name != "Carla" && o.Name != "Ana" {
			t.Errorf("Officers: %+v", o)
		}
	}
	v, err := c.VerifyAudit(ctx)
	if err != nil || !v.OK || v.Entries != 2 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}

	var ae *officerapi.Error
	if _, err := plain.Officers(ctx); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Fatalf("Officers as an officer: %v, want 403", err)
	}
	if _, err := plain.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Fatalf("VerifyAudit as an officer: %v, want 403", err)
	}
	if _, err := officerapi.New(srv.URL, "hlo_nope", nil).Regions(ctx, nil); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("Regions with a bad token: %v, want 401", err)
	}
}

// TestRegionsRefusesBadAnswers: a gateway that sends what is not JSON, or
// more than MaxRegions, is refused rather than handed to the map.
func TestRegionsRefusesBadAnswers(t *testing.T) {
	url, _ := fakeGateway(t, map[string]http.HandlerFunc{
		"GET /api/v1/regions": func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-None-Match") == `"big"` {
				w.Write([]byte(`"` + strings.Repeat("a", officerapi.MaxRegions) + `"`))
				return
			}
			w.Write([]byte(`<svg onload="x">`))
		},
	})
	c := officerapi.New(url, "tok", nil)
	if _, err := c.Regions(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("not JSON: %v", err)
	}
	if _, err := c.Regions(context.Background(), &officerapi.RegionMap{ETag: `"big"`}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("too large: %v", err)
	}
}
