package svgmap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// small has a square with a hole, a two-part MultiPolygon, a LineString (ignored)
// and a feature without geometry.
const small = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"region":"north","name":"Norte"},"geometry":{"type":"Polygon","coordinates":[
   [[-77.1,-12.0],[-77.0,-12.0],[-77.0,-11.9],[-77.1,-11.9],[-77.1,-12.0]],
   [[-77.07,-11.97],[-77.03,-11.97],[-77.03,-11.93],[-77.07,-11.93],[-77.07,-11.97]]]}},
 {"type":"Feature","properties":{"region":"south","name":"Sur & Islas"},"geometry":{"type":"MultiPolygon","coordinates":[
   [[[-77.1,-12.1],[-77.0,-12.1],[-77.0,-12.0],[-77.1,-12.1]]],
   [[[-77.2,-12.1],[-77.15,-12.1],[-77.15,-12.05],[-77.2,-12.1]]]]}},
 {"type":"Feature","properties":{"name":"road"},"geometry":{"type":"LineString","coordinates":[[-77.1,-12.0],[-77.0,-12.1]]}},
 {"type":"Feature","properties":{"name":"nowhere"},"geometry":null}
]}`

func TestRenderGolden(t *testing.T) {
	got, err := Render([]byte(small), &Point{Lat: -11.95, Lon: -77.05}, Options{Width: 320, Height: 240, Highlight: []string{"south"}})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "small.svg")
	if *update {
		if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got)+"\n" != string(want) {
		t.Errorf("Render differs from %s (go test -update to rewrite):\n got %s\nwant %s", golden, got, want)
	}
	checkSafe(t, string(got))
	if n := strings.Count(string(got), "<path "); n != 2 {
		t.Errorf("%d paths, want 2 (the LineString and the empty feature are not drawn)", n)
	}
	if !strings.Contains(string(got), `class="region hit" fill-rule="evenodd"`) || strings.Count(string(got), "region hit") != 1 {
		t.Errorf("want exactly the south region highlighted: %s", got)
	}
	// The hole is its own subpath, so evenodd leaves it empty: the first path has two Z.
	first := string(got)[strings.Index(string(got), "<path"):]
	first = first[:strings.Index(first, "</path>")]
	if strings.Count(first, "Z") != 2 {
		t.Errorf("the polygon with a hole should have two subpaths: %s", first)
	}
}

func TestRenderHighlightByName(t *testing.T) {
	got, err := Render([]byte(small), nil, Options{Highlight: []string{"Norte"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `class="region hit" fill-rule="evenodd" d="M`) || strings.Count(string(got), "region hit") != 1 {
		t.Errorf("want Norte highlighted: %s", got)
	}
	if strings.Contains(string(got), "<circle") {
		t.Errorf("no point given, but a circle is drawn")
	}
}

func TestRenderHostileNames(t *testing.T) {
	names := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`' onload='alert(1)`,
		"]]><x>\x00\x01\uFFFE",
		"bad utf8 \xff\xfe",
		`<a href="javascript:alert(1)">x</a>`,
	}
	for _, name := range names {
		q, _ := jsonString(name)
		fc := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":` + q + `,"region":` + q +
			`},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}`
		got, err := Render([]byte(fc), &Point{Lat: 0.5, Lon: 0.5}, Options{Highlight: []string{name}})
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		checkSafe(t, string(got))
		if strings.Contains(string(got), "<script") || strings.Contains(string(got), "<img") || strings.Contains(string(got), "<a ") {
			t.Errorf("%q: markup leaked: %s", name, got)
		}
		if !strings.Contains(string(got), "<title>") {
			t.Errorf("%q: no title: %s", name, got)
		}
	}
}

func TestRenderPointOutsideRegions(t *testing.T) {
	// A tip in Arequipa on a map of Lima: the view widens to show both.
	got, err := Render([]byte(small), &Point{Lat: -16.4, Lon: -71.5}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkSafe(t, string(got))
	cx, cy := circleAt(t, string(got))
	if cx < 0 || cx > DefaultWidth || cy < 0 || cy > DefaultHeight {
		t.Errorf("circle at %v,%v is outside the %dx%d view", cx, cy, DefaultWidth, DefaultHeight)
	}
	// Only a point: still a map, centred on it.
	got, err = Render([]byte(`{"type":"FeatureCollection","features":[]}`), &Point{Lat: 3.1, Lon: 101.7}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cx, cy = circleAt(t, string(got))
	if cx != DefaultWidth/2 || cy != DefaultHeight/2 {
		t.Errorf("a lone point should be centred, got %v,%v", cx, cy)
	}
}

func TestRenderRefuses(t *testing.T) {
	square := `[[0,0],[1,0],[1,1],[0,0]]`
	many := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[` +
		strings.Repeat(`[0.5,0.5],`, MaxVertices) + `[0,0]]]}}]}`
	tests := []struct {
		name string
		fc   string
		pt   *Point
		o    Options
		want error
	}{
		{"too big", `{"type":"FeatureCollection","features":[],"x":"` + strings.Repeat("a", MaxInput) + `"}`, nil, Options{}, ErrTooLarge},
		{"too many vertices", many, nil, Options{}, ErrTooLarge},
		{"not json", `{"type":`, nil, Options{}, ErrInvalid},
		{"not a collection", `{"type":"Feature"}`, nil, Options{}, ErrInvalid},
		{"bad coordinates", `{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":"x"}}]}`, nil, Options{}, ErrInvalid},
		{"out of range", `{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,0]]]}}]}`, nil, Options{}, ErrInvalid},
		{"short position", `{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":[[[0],[1,0],[1,1],[0,0]]]}}]}`, nil, Options{}, ErrInvalid},
		{"point out of range", `{"type":"FeatureCollection","features":[{"geometry":{"type":"Polygon","coordinates":[` + square + `]}}]}`, &Point{Lat: 100}, Options{}, ErrInvalid},
		{"nothing", `{"type":"FeatureCollection","features":[]}`, nil, Options{}, ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render([]byte(tt.fc), tt.pt, tt.o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if len(err.Error()) > 120 {
				t.Errorf("error too long (echoes input?): %d bytes", len(err.Error()))
			}
		})
	}
	for _, o := range []Options{{Width: 5, Height: 100}, {Width: MaxSide + 1, Height: 100}, {Width: -1}} {
		if _, err := Render([]byte(small), nil, o); err == nil {
			t.Errorf("size %dx%d accepted", o.Width, o.Height)
		}
	}
}

// TestRenderGeodata draws the real boundary files, unsimplified: the pixel-step
// decimation keeps each map small enough to send with a page.
func TestRenderGeodata(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "geodata")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("geodata missing under CI: %v", err)
		}
		t.Skipf("no %s: %v", dir, err)
	}
	const maxOut = 200 << 10
	for _, f := range []string{"lima-callao-districts.geojson", "peru-departments.geojson", "malaysia-states.geojson"} {
		t.Run(f, func(t *testing.T) {
			fc, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Render(fc, &Point{Lat: -12.05, Lon: -77.04}, Options{Width: 800, Height: 800})
			if err != nil {
				t.Fatal(err)
			}
			checkSafe(t, string(got))
			if n := strings.Count(string(got), "<path "); n < 10 {
				t.Errorf("%d paths drawn", n)
			}
			if len(got) > maxOut {
				t.Errorf("%d bytes, want at most %d", len(got), maxOut)
			}
			t.Logf("%s: %d bytes in, %d bytes of SVG, %d paths", f, len(fc), len(got), strings.Count(string(got), "<path "))
		})
	}
}

func jsonString(s string) (string, error) {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, r := range []byte(s) {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteByte(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteString(string("0123456789abcdef"[r>>4]) + string("0123456789abcdef"[r&15]))
		default:
			b.WriteByte(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

func circleAt(t *testing.T, svg string) (cx, cy float64) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("no circle: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "circle" {
			for _, a := range se.Attr {
				var v float64
				if _, err := fmt.Sscan(a.Value, &v); err != nil {
					continue
				}
				switch a.Name.Local {
				case "cx":
					cx = v
				case "cy":
					cy = v
				}
			}
			return cx, cy
		}
	}
}

// checkSafe fails unless svg is one well-formed <svg> element whose elements
// and attributes are all on the allow list, with no script, handler or link.
func checkSafe(t testing.TB, svg string) {
	t.Helper()
	if err := safe(svg); err != nil {
		t.Fatalf("%v in %q", err, svg)
	}
}

func safe(svg string) error {
	// Escaped text may say "href"; markup may not. Attributes are checked
	// against an allow list below (no on*, href or style can pass).
	if strings.Contains(strings.ToLower(svg), "<script") {
		return errors.New("contains <script")
	}
	elements := map[string]bool{"svg": true, "path": true, "title": true, "circle": true}
	attrs := map[string]bool{"xmlns": true, "class": true, "role": true, "viewBox": true, "width": true, "height": true,
		"fill-rule": true, "d": true, "cx": true, "cy": true, "r": true}
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tok.Name.Local != "svg" {
					return errors.New("root is " + tok.Name.Local)
				}
			}
			depth++
			if !elements[tok.Name.Local] {
				return errors.New("element " + tok.Name.Local)
			}
			for _, a := range tok.Attr {
				name := strings.ToLower(a.Name.Local)
				if !attrs[a.Name.Local] || strings.HasPrefix(name, "on") || strings.Contains(name, "href") ||
					a.Name.Space != "" && a.Name.Local != "xmlns" {
					return errors.New("attribute " + a.Name.Local)
				}
				if a.Name.Local == "d" && strings.Trim(a.Value, "0123456789.-MLZ ") != "" {
					return errors.New("path data not numbers only")
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok)) > 0 {
				return errors.New("text outside the svg element")
			}
		case xml.ProcInst, xml.Directive:
			return errors.New("processing instruction or directive")
		}
	}
	if roots != 1 {
		return errors.New("not exactly one root element")
	}
	return nil
}
