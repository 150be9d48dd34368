package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue/officer"
)

// geodataDir is the shared boundary data, kept outside the repository.
const geodataDir = "../../shared/geodata"

// withDrawings gives each test agency the drawing of specs' regions: the
// agency's index in agencies names the regions it gets.
func withDrawings(t testing.TB, specs []geo.RegionSpec, byAgency map[string][]string) func(*handlers.Options) {
	t.Helper()
	ix, err := geo.Load(specs)
	if err != nil {
		t.Fatal(err)
	}
	drawings := map[string][]byte{}
	for agency, regions := range byAgency {
		if drawings[agency], err = ix.Drawing(regions); err != nil {
			t.Fatal(err)
		}
	}
	return func(o *handlers.Options) { o.Regions = drawings }
}

// regionsDoc is what these tests read of a drawing (its geometry is
// geo's to test).
type regionsDoc struct {
	Type     string `json:"type"`
	Features []struct {
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

func getRegions(t *testing.T, h *harness, path, token, etag string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestRegionsAPI: an officer gets the drawing of the agency's own regions
// (only region and name as properties), cached privately and revalidated by
// ETag; another agency's regions are refused; an agency without regions
// gets an empty collection.
func TestRegionsAPI(t *testing.T) {
	h := newHarness(t, withDrawings(t, gatewaytest.Regions, map[string][]string{
		gatewaytest.Lima: {"lima"}, gatewaytest.KL: {"kuala-lumpur"}}))
	lima, kl, east := h.officer(t, gatewaytest.Lima), h.officer(t, gatewaytest.KL), h.officer(t, gatewaytest.Overlap)

	for _, tc := range []struct {
		path, token, want string
	}{
		{"/api/v1/regions", lima, "lima"},
		{"/api/v1/agencies/pe-lima/regions", lima, "lima"},
		{"/api/v1/regions", kl, "kuala-lumpur"},
	} {
		res, body := getRegions(t, h, tc.path, tc.token, "")
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tc.path, res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/geo+json" {
			t.Errorf("Content-Type %q", ct)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "private, max-age=300" {
			t.Errorf("Cache-Control %q", cc)
		}
		var d regionsDoc
		if err := json.Unmarshal([]byte(body), &d); err != nil || d.Type != "FeatureCollection" || len(d.Features) != 1 {
			t.Fatalf("%s: %v %s", tc.path, err, body)
		}
		p := d.Features[0].Properties
		if len(p) != 2 || p["region"] != tc.want || p["name"] != tc.want {
			t.Errorf("%s: properties %v, want region and name %s only", tc.path, p, tc.want)
		}
		checkDocumented(t, h, "GET", tc.path, res.StatusCode, body)

		etag := res.Header.Get("ETag")
		if !regexpMatch(`^"[0-9a-f]{32}"$`, etag) {
			t.Fatalf("ETag %q", etag)
		}
		res, body = getRegions(t, h, tc.path, tc.token, `"stale", W/`+etag)
		if res.StatusCode != http.StatusNotModified || body != "" || res.Header.Get("ETag") != etag {
			t.Errorf("%s with If-None-Match: %d %q", tc.path, res.StatusCode, body)
		}
		checkDocumented(t, h, "GET", tc.path, res.StatusCode, "")
		if res, _ = getRegions(t, h, tc.path, tc.token, `"stale"`); res.StatusCode != 200 {
			t.Errorf("%s with a stale ETag: %d", tc.path, res.StatusCode)
		}
	}
	// Lima's and KL's drawings differ, and so do their tags.
	r1, _ := getRegions(t, h, "/api/v1/regions", lima, "")
	r2, _ := getRegions(t, h, "/api/v1/regions", kl, "")
	if r1.Header.Get("ETag") == r2.Header.Get("ETag") {
		t.Error("two agencies' drawings have one ETag")
	}

	// Another agency's regions: refused, whatever the role.
	sup, _, err := officer.New(h.Queue).Add(context.Background(), gatewaytest.KL, "Sup", officer.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{kl, sup} {
		s, b := h.api(t, "GET", "/api/v1/agencies/pe-lima/regions", tok, "")
		if s != http.StatusForbidden || strings.Contains(b, "Feature") {
			t.Errorf("another agency's regions: %d %s, want 403", s, b)
		}
	}
	if s, _ := h.api(t, "GET", "/api/v1/regions", "", ""); s != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", s)
	}
	// An agency with no drawing: an empty collection, not an error.
	if s, b := h.api(t, "GET", "/api/v1/regions", east, ""); s != 200 || strings.TrimSpace(b) != `{"type":"FeatureCollection","features":[]}` {
		t.Errorf("agency without regions: %d %s", s, b)
	}
}

// TestRegionsAPIGeodata serves the real boundary files: every district of
// Lima and Callao, every department of Peru, every state of Malaysia, each
// under 200 KB.
func TestRegionsAPIGeodata(t *testing.T) {
	if _, err := os.Stat(geodataDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the boundary data %s is not present", geodataDir)
		}
		t.Skipf("boundary data %s not present", geodataDir)
	}
	specs := []geo.RegionSpec{
		{ID: "lc", GeoJSONPath: filepath.Join(geodataDir, "lima-callao-districts.geojson"), NameProperty: "distrito"},
		{ID: "pe", GeoJSONPath: filepath.Join(geodataDir, "peru-departments.geojson"), NameProperty: "NOMBDEP"},
		{ID: "my", GeoJSONPath: filepath.Join(geodataDir, "malaysia-states.geojson"), NameProperty: "state"},
	}
	h := newHarness(t, withDrawings(t, specs, map[string][]string{
		gatewaytest.Lima: {"lc"}, gatewaytest.Overlap: {"pe"}, gatewaytest.KL: {"my"}}))
	for agency, want := range map[string]int{gatewaytest.Lima: 50, gatewaytest.Overlap: 25, gatewaytest.KL: 16} {
		s, b := h.api(t, "GET", "/api/v1/regions", h.officer(t, agency), "")
		if s != 200 {
			t.Fatalf("%s: %d %s", agency, s, b)
		}
		if len(b) > 200<<10 {
			t.Errorf("%s: %d bytes, want at most 200 KB", agency, len(b))
		}
		var d regionsDoc
		if err := json.Unmarshal([]byte(b), &d); err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, f := range d.Features {
			if len(f.Properties) != 2 {
				t.Fatalf("properties %v", f.Properties)
			}
			names[f.Properties["name"].(string)] = true
		}
		if len(names) != want {
			t.Errorf("%s: %d named features, want %d", agency, len(names), want)
		}
		checkDocumented(t, h, "GET", "/api/v1/regions", s, b)
		t.Logf("%s: %d features, %d bytes", agency, len(d.Features), len(b))
	}
}

// TestOfficersAPI: a supervisor sees the agency's officers and the state of
// their tokens, never a token or its hash nor another agency's officers;
// an officer is refused.
func TestOfficersAPI(t *testing.T) {
	h := newHarness(t)
	store := officer.New(h.Queue)
	ctx := context.Background()
	sup, _, err := store.Add(ctx, gatewaytest.Lima, "Carla <b>", officer.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	ana, anaOf, err := store.Add(ctx, gatewaytest.Lima, "Ana", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	_, gone, err := store.Add(ctx, gatewaytest.Lima, "Beto", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Revoke(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	klSup, _, _ := store.Add(ctx, gatewaytest.KL, "Siti", officer.RoleSupervisor)

	s, b := h.api(t, "GET", "/api/v1/officers", sup, "")
	if s != 200 {
		t.Fatalf("%d %s", s, b)
	}
	checkDocumented(t, h, "GET", "/api/v1/officers", s, b)
	var got struct{ Officers []handlers.OfficerJSON }
	if err := json.Unmarshal([]byte(b), &got); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, o := range got.Officers {
		if o.Agency != gatewaytest.Lima {
			t.Errorf("officer of %s listed to a supervisor of %s", o.Agency, gatewaytest.Lima)
		}
		states[o.Name] = o.Token + " " + o.Role
		// Carla's token asked for the list; Ana's has not been used yet.
		if used := !o.LastUsed.IsZero(); used != (o.Name == "Carla <b>") || used && time.Since(o.LastUsed) > time.Minute {
			t.Errorf("%s's token last used %v", o.Name, o.LastUsed)
		}
	}
	if states["Ana"] != "active officer" || states["Beto"] != "revoked officer" || states["Carla <b>"] != "active supervisor" || len(states) != 3 {
		t.Errorf("officers %v", states)
	}
	secret := ana[strings.LastIndex(ana, "_")+1:]
	if strings.Contains(b, secret) || strings.Contains(b, "hash") || !strings.Contains(b, anaOf.ID) {
		t.Errorf("the list shows a token or a hash, or not the ids: %s", b)
	}
	if s, b := h.api(t, "GET", "/api/v1/agencies/pe-lima/officers", sup, ""); s != 200 || !strings.Contains(b, anaOf.ID) {
		t.Errorf("agency form: %d %s", s, b)
	}
	for name, tc := range map[string]struct{ path, token string }{
		"an officer":              {"/api/v1/officers", ana},
		"another agency's sup":    {"/api/v1/agencies/pe-lima/officers", klSup},
		"an officer, agency form": {"/api/v1/agencies/pe-lima/officers", ana},
	} {
		s, b := h.api(t, "GET", tc.path, tc.token, "")
		if s != http.StatusForbidden || strings.Contains(b, "Ana") {
			t.Errorf("%s: %d %s, want 403", name, s, b)
		}
		checkDocumented(t, h, "GET", tc.path, s, b)
	}
}

// TestAuditVerifyAPI: a supervisor has the agency's chain verified; an
// entry removed from Redis is named.
func TestAuditVerifyAPI(t *testing.T) {
	h := newHarness(t)
	sup := h.supervisor(t, gatewaytest.Lima) // each token added is an audit entry
	ana := h.officer(t, gatewaytest.Lima)
	h.officer(t, gatewaytest.Lima)
	h.officer(t, gatewaytest.Lima)

	var v handlers.AuditVerification
	s, b := h.api(t, "GET", "/api/v1/audit/verify", sup, "")
	if s != 200 || json.Unmarshal([]byte(b), &v) != nil || !v.OK || v.Entries != 4 || v.BrokenAt != "" {
		t.Fatalf("intact chain: %d %s", s, b)
	}
	checkDocumented(t, h, "GET", "/api/v1/audit/verify", s, b)
	for _, tok := range []string{ana, h.supervisor(t, gatewaytest.KL)} {
		s, b := h.api(t, "GET", "/api/v1/agencies/pe-lima/audit/verify", tok, "")
		if s != http.StatusForbidden {
			t.Errorf("an officer or another agency's supervisor: %d %s, want 403", s, b)
		}
		checkDocumented(t, h, "GET", "/api/v1/agencies/pe-lima/audit/verify", s, b)
	}

	log := auditActions(t, h, gatewaytest.Lima)
	if err := h.Redis.Client.XDel(context.Background(), h.Redis.Prefix+":{pe-lima}:audit", log[1].ID).Err(); err != nil {
		t.Fatal(err)
	}
	v = handlers.AuditVerification{}
	s, b = h.api(t, "GET", "/api/v1/agencies/pe-lima/audit/verify", sup, "")
	if s != 200 || json.Unmarshal([]byte(b), &v) != nil || v.OK || v.BrokenAt != log[2].ID || v.Entries != 1 || v.Reason == "" {
		t.Fatalf("an entry removed: %d %s, want broken at %s", s, b, log[2].ID)
	}
	checkDocumented(t, h, "GET", "/api/v1/agencies/pe-lima/audit/verify", s, b)
}
