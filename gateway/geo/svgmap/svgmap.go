// Package svgmap draws region boundaries and a tip's location as one inline
// SVG element, for the officer's console: no tile server, no outside request.
//
// It is pure (no I/O) and treats its input as hostile. The GeoJSON comes from
// the gateway's officer API, and feature names may come from any boundary file
// an operator loaded, so the output is built so that it is safe to embed in an
// HTML page as is: names appear only as escaped text inside <title>, path data
// and attributes hold only numbers and fixed class names, and the element never
// carries a script, an event handler, an href or a style attribute. Input is
// bounded in bytes and in vertices, and the output is bounded because vertices
// closer than a pixel step to the previous one are dropped.
//
// The projection is equirectangular with the longitude scaled by the cosine of
// the middle latitude, which is accurate enough for a department or a district.
// Collections crossing the antimeridian are not handled: such a region is drawn
// stretched across the map.
package svgmap

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"math"
	"strconv"
)

const (
	// MaxInput is the largest collection Render accepts, in bytes: the regions
	// of one agency, already simplified by the gateway, are well under 1 MB.
	MaxInput = 8 << 20
	// MaxVertices is the most positions Render accepts across all features.
	MaxVertices = 400_000
	// DefaultWidth and DefaultHeight are the size in pixels when Options leaves it zero.
	DefaultWidth  = 640
	DefaultHeight = 480
	// MaxSide bounds Width and Height, so that the pixel-step decimation keeps
	// the output small.
	MaxSide = 4096

	margin = 8   // pixels left free around the drawing
	radius = 5.0 // of the tip's circle, in pixels
	// minStep is the least distance, in pixels, between two vertices kept in a
	// ring: closer ones add bytes and no visible detail.
	minStep = 0.75
)

// Point is a WGS84 position.
type Point struct{ Lat, Lon float64 }

// Options sets the size of the drawing and what it emphasises.
type Options struct {
	Width, Height int
	// Highlight holds region ids or feature names (the "region" and "name"
	// properties) whose paths get the class "region hit".
	Highlight []string
}

// Errors Render returns, matchable with errors.Is.
var (
	ErrTooLarge = errors.New("svgmap: collection too large")
	ErrInvalid  = errors.New("svgmap: invalid GeoJSON")
	ErrEmpty    = errors.New("svgmap: nothing to draw")
)

type collection struct {
	Type     string    `json:"type"`
	Features []feature `json:"features"`
}

type feature struct {
	Properties map[string]any `json:"properties"`
	Geometry   *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

// shape is one feature to draw: its polygons as rings of [lon, lat].
type shape struct {
	name, region string
	rings        [][][2]float64
}

// Render draws a GeoJSON FeatureCollection as one <svg> element whose viewBox
// is fitted to the features and the point. Each Polygon or MultiPolygon
// feature becomes one <path class="region"> (holes drawn with fill-rule
// evenodd) with a <title> of its name; other geometries are ignored. A
// highlighted feature has class "region hit"; the point, when given, is a
// <circle class="tip">, drawn even when it lies outside every region.
func Render(fc []byte, pt *Point, o Options) (template.HTML, error) {
	if len(fc) > MaxInput {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(fc), MaxInput)
	}
	w, h := o.Width, o.Height
	if w == 0 {
		w = DefaultWidth
	}
	if h == 0 {
		h = DefaultHeight
	}
	if w < 2*margin+1 || h < 2*margin+1 || w > MaxSide || h > MaxSide {
		return "", fmt.Errorf("svgmap: size %dx%d outside %d..%d", w, h, 2*margin+1, MaxSide)
	}
	shapes, err := parse(fc)
	if err != nil {
		return "", err
	}
	if pt != nil && !validPos(pt.Lon, pt.Lat) {
		return "", fmt.Errorf("%w: point outside WGS84 range", ErrInvalid)
	}

	b := newBounds()
	for _, s := range shapes {
		for _, r := range s.rings {
			for _, p := range r {
				b.add(p[0], p[1])
			}
		}
	}
	if pt != nil {
		b.add(pt.Lon, pt.Lat)
	}
	if b.empty() {
		return "", ErrEmpty
	}
	pr := newProjection(b, w, h)

	hit := make(map[string]bool, len(o.Highlight))
	for _, s := range o.Highlight {
		hit[s] = true
	}

	var out bytes.Buffer
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" viewBox="0 0 %d %d" width="%d" height="%d">`, w, h, w, h)
	for _, s := range shapes {
		d := pr.path(s.rings)
		if d == "" {
			continue
		}
		class := "region"
		if (s.region != "" && hit[s.region]) || (s.name != "" && hit[s.name]) {
			class = "region hit"
		}
		fmt.Fprintf(&out, `<path class="%s" fill-rule="evenodd" d="%s">`, class, d)
		if s.name != "" {
			out.WriteString("<title>")
			_ = xml.EscapeText(&out, []byte(s.name)) // writes to a buffer: cannot fail
			out.WriteString("</title>")
		}
		out.WriteString("</path>")
	}
	if pt != nil {
		x, y := pr.xy(pt.Lon, pt.Lat)
		fmt.Fprintf(&out, `<circle class="tip" cx="%s" cy="%s" r="%s"></circle>`, num(x), num(y), num(radius))
	}
	out.WriteString("</svg>")
	return template.HTML(out.String()), nil // #nosec: built only from numbers, fixed names and escaped text
}

func parse(fc []byte) ([]shape, error) {
	var c collection
	if err := json.Unmarshal(fc, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, jsonReason(err))
	}
	if c.Type != "FeatureCollection" {
		return nil, fmt.Errorf("%w: not a FeatureCollection", ErrInvalid)
	}
	var shapes []shape
	vertices := 0
	for i, f := range c.Features {
		if f.Geometry == nil {
			continue
		}
		var polys [][][][]float64
		switch f.Geometry.Type {
		case "Polygon":
			var p [][][]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &p); err != nil {
				return nil, fmt.Errorf("%w: feature %d: Polygon coordinates", ErrInvalid, i)
			}
			polys = [][][][]float64{p}
		case "MultiPolygon":
			if err := json.Unmarshal(f.Geometry.Coordinates, &polys); err != nil {
				return nil, fmt.Errorf("%w: feature %d: MultiPolygon coordinates", ErrInvalid, i)
			}
		default:
			continue
		}
		s := shape{name: stringProp(f.Properties, "name"), region: stringProp(f.Properties, "region")}
		for _, poly := range polys {
			for _, ring := range poly {
				vertices += len(ring)
				if vertices > MaxVertices {
					return nil, fmt.Errorf("%w: more than %d vertices", ErrTooLarge, MaxVertices)
				}
				r := make([][2]float64, 0, len(ring))
				for _, pos := range ring {
					if len(pos) < 2 || !validPos(pos[0], pos[1]) {
						return nil, fmt.Errorf("%w: feature %d: position outside WGS84 range", ErrInvalid, i)
					}
					r = append(r, [2]float64{pos[0], pos[1]})
				}
				if len(r) >= 3 {
					s.rings = append(s.rings, r)
				}
			}
		}
		if len(s.rings) > 0 {
			shapes = append(shapes, s)
		}
	}
	return shapes, nil
}

// jsonReason keeps the decoder's category of error and drops any echo of the input.
func jsonReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "unexpected type at byte " + strconv.FormatInt(te.Offset, 10)
	}
	return "cannot decode"
}

func stringProp(p map[string]any, key string) string {
	s, _ := p[key].(string)
	return s
}

func validPos(lon, lat float64) bool {
	return lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90
}

type bounds struct{ minLon, minLat, maxLon, maxLat float64 }

func newBounds() bounds {
	return bounds{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
}

func (b *bounds) add(lon, lat float64) {
	b.minLon, b.maxLon = min(b.minLon, lon), max(b.maxLon, lon)
	b.minLat, b.maxLat = min(b.minLat, lat), max(b.maxLat, lat)
}

func (b bounds) empty() bool { return b.minLon > b.maxLon }

// projection maps lon/lat to pixels inside the viewBox, centred.
type projection struct {
	b          bounds
	kx, scale  float64
	offX, offY float64
}

func newProjection(b bounds, w, h int) projection {
	// A lone point, or a region thinner than ~100 m, gets a little room around it.
	const minSpan = 0.001
	if b.maxLon-b.minLon < minSpan {
		c := (b.minLon + b.maxLon) / 2
		b.minLon, b.maxLon = c-minSpan/2, c+minSpan/2
	}
	if b.maxLat-b.minLat < minSpan {
		c := (b.minLat + b.maxLat) / 2
		b.minLat, b.maxLat = c-minSpan/2, c+minSpan/2
	}
	kx := math.Cos((b.minLat + b.maxLat) / 2 * math.Pi / 180)
	kx = max(kx, 0.01) // near a pole the map stays finite
	spanX := (b.maxLon - b.minLon) * kx
	spanY := b.maxLat - b.minLat
	innerW, innerH := float64(w-2*margin), float64(h-2*margin)
	scale := min(innerW/spanX, innerH/spanY)
	return projection{
		b: b, kx: kx, scale: scale,
		offX: margin + (innerW-spanX*scale)/2,
		offY: margin + (innerH-spanY*scale)/2,
	}
}

func (p projection) xy(lon, lat float64) (float64, float64) {
	return p.offX + (lon-p.b.minLon)*p.kx*p.scale, p.offY + (p.b.maxLat-lat)*p.scale
}

// path writes the rings as SVG path data, one closed subpath each, dropping
// vertices within minStep pixels of the last one kept. A ring left with fewer
// than three vertices (smaller than a pixel or two) is not drawn.
func (p projection) path(rings [][][2]float64) string {
	var d []byte
	pts := make([][2]float64, 0, 64)
	for _, r := range rings {
		pts = pts[:0]
		for _, v := range r {
			x, y := p.xy(v[0], v[1])
			x, y = round(x), round(y)
			if n := len(pts); n > 0 && math.Hypot(x-pts[n-1][0], y-pts[n-1][1]) < minStep {
				continue
			}
			pts = append(pts, [2]float64{x, y})
		}
		if n := len(pts); n > 1 && pts[0] == pts[n-1] {
			pts = pts[:n-1] // Z closes the ring
		}
		if len(pts) < 3 {
			continue
		}
		for i, v := range pts {
			if i == 0 {
				d = append(d, 'M')
			} else {
				d = append(d, 'L')
			}
			d = strconv.AppendFloat(d, v[0], 'f', -1, 64)
			d = append(d, ' ')
			d = strconv.AppendFloat(d, v[1], 'f', -1, 64)
		}
		d = append(d, 'Z')
	}
	return string(d)
}

// round keeps one decimal: a tenth of a pixel is below what a screen shows.
func round(v float64) float64 { return math.Round(v*10) / 10 }

func num(v float64) string { return strconv.FormatFloat(round(v), 'f', -1, 64) }
