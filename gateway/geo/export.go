package geo

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/simplify"
)

// MaxDrawing is the size the GeoJSON of one agency's regions is simplified
// to fit, in bytes: it is sent to the officer's console and drawn there.
// Only a map of well over a thousand features (every district of a
// country) stays above it, since every feature is kept.
const MaxDrawing = 200 << 10

// drawingDetail is the share of the regions' extent kept as detail: a
// Douglas-Peucker tolerance of extent/2000 is well under a pixel on a
// screen-sized map of the whole area.
const drawingDetail = 2000

// Drawing returns the features of the given regions as a GeoJSON
// FeatureCollection for drawing: one MultiPolygon feature per loaded
// feature, with only the properties "region" (its region id) and "name"
// (its feature name, or the region id for an inline polygon). Geometry is
// simplified (Douglas-Peucker, the tolerance raised by half until the
// document fits MaxDrawing, at most 10 times; a feature smaller than the
// tolerance is drawn as the quadrilateral of its extreme points) and coordinates rounded to 5 decimals (about
// a metre). Unknown region ids and features without geometry are left out.
// The Index's own shapes are not changed.
func (ix *Index) Drawing(regions []string) ([]byte, error) {
	var picked []int32
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	if ix != nil {
		for _, id := range regions {
			r, ok := ix.byID[id]
			if !ok {
				continue
			}
			for _, f := range ix.byRegion[r] {
				if ix.features[f].shape != nil {
					picked = append(picked, f)
					b = b.Union(ix.features[f].bound)
				}
			}
		}
	}
	tol := 0.0
	if len(picked) > 0 {
		tol = max(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]) / drawingDetail
	}
	var doc []byte
	for range 10 {
		var err error
		if doc, err = ix.drawing(picked, tol); err != nil {
			return nil, err
		}
		if len(doc) <= MaxDrawing {
			break
		}
		tol *= 1.5
	}
	return doc, nil
}

type drawnFeature struct {
	Type       string        `json:"type"`
	Properties drawnProps    `json:"properties"`
	Geometry   drawnGeometry `json:"geometry"`
}

type drawnProps struct {
	Region string `json:"region"`
	Name   string `json:"name"`
}

type drawnGeometry struct {
	Type        string           `json:"type"`
	Coordinates [][][][2]float64 `json:"coordinates"`
}

func (ix *Index) drawing(picked []int32, tol float64) ([]byte, error) {
	out := struct {
		Type     string         `json:"type"`
		Features []drawnFeature `json:"features"`
	}{Type: "FeatureCollection", Features: []drawnFeature{}}
	for _, fi := range picked {
		f := &ix.features[fi]
		mp := simplify.DouglasPeucker(tol).MultiPolygon(f.shape.Clone())
		var coords [][][][2]float64
		for _, poly := range mp {
			var rings [][][2]float64
			for i, ring := range poly {
				r := roundRing(ring)
				if len(r) < 4 {
					if i == 0 {
						break // the outer ring is gone: so is the polygon
					}
					continue
				}
				rings = append(rings, r)
			}
			if len(rings) > 0 {
				coords = append(coords, rings)
			}
		}
		if len(coords) == 0 {
			// Smaller than the detail kept: still drawn, as the
			// quadrilateral of its outer ring's extreme points (or its
			// bounding box), so that
			// every region is on the map.
			outer := f.shape[largest(f.shape)][0]
			r := roundRing(extremes(outer))
			if len(r) < 4 {
				r = roundRing(outer.Bound().ToRing()) // a sliver: its bounding box
			}
			if len(r) < 4 {
				continue
			}
			coords = [][][][2]float64{{r}}
		}
		name := f.name
		if name == "" {
			name = ix.ids[f.region]
		}
		out.Features = append(out.Features, drawnFeature{Type: "Feature",
			Properties: drawnProps{Region: ix.ids[f.region], Name: name},
			Geometry:   drawnGeometry{Type: "MultiPolygon", Coordinates: coords}})
	}
	doc, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("failed to encode regions: %w", err)
	}
	return doc, nil
}

// largest returns the index of mp's polygon with the widest bound.
func largest(mp orb.MultiPolygon) int {
	best, size := 0, -1.0
	for i, p := range mp {
		b := p.Bound()
		if s := (b.Max[0] - b.Min[0]) + (b.Max[1] - b.Min[1]); s > size {
			best, size = i, s
		}
	}
	return best
}

// extremes returns the westernmost, southernmost, easternmost and
// northernmost points of ring, in ring order, closed.
func extremes(ring orb.Ring) orb.Ring {
	var w, s, e, n int
	for i, p := range ring {
		if p[0] < ring[w][0] {
			w = i
		}
		if p[1] < ring[s][1] {
			s = i
		}
		if p[0] > ring[e][0] {
			e = i
		}
		if p[1] > ring[n][1] {
			n = i
		}
	}
	idx := []int{w, s, e, n}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	out := make(orb.Ring, 0, 5)
	for _, i := range idx {
		out = append(out, ring[i])
	}
	return append(out, out[0])
}

// roundRing rounds to 5 decimals, drops repeated points and keeps the ring
// closed.
func roundRing(ring orb.Ring) [][2]float64 {
	out := make([][2]float64, 0, len(ring))
	for _, p := range ring {
		q := [2]float64{round5(p[0]), round5(p[1])}
		if n := len(out); n > 0 && out[n-1] == q {
			continue
		}
		out = append(out, q)
	}
	if n := len(out); n > 1 && out[0] != out[n-1] {
		out = append(out, out[0])
	}
	return out
}

func round5(v float64) float64 { return math.Round(v*1e5) / 1e5 }
