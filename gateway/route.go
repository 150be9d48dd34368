package gateway

import (
	"slices"
	"strings"

	"github.com/hotline-org/hotline/gateway/geo"
)

// Reasons for a routing decision.
const (
	ReasonLocation        = "location"                  // a location in the tip, inside a covered region
	ReasonUncovered       = "location_not_covered"      // a location no agency covers: default agency
	ReasonNumberRegion    = "number_region"             // no location; the hotline number's region
	ReasonNoLocation      = "no_location"               // nothing found: default agency
	ReasonThread          = "thread"                    // a follow-up with no location: the thread's agencies
	ReasonUnusable        = "location_unusable"         // found but not placeable (short link, ambiguous name): default agency
	ReasonNumberUncovered = "number_region_not_covered" // the number's region has no agency: default agency
)

// AgencyArea is an agency and the regions it covers.
type AgencyArea struct {
	ID      string
	Regions []string
}

// Router picks the agencies that receive a tip.
type Router struct {
	ix            *geo.Index
	locator       *geo.Locator
	byRegion      map[string][]string // region -> agencies, in config order
	numberRegion  map[string]string   // hotline number -> region
	defaultAgency string
}

// NewRouter builds a router. numberRegions maps the hotline's numbers (E.164)
// to their default region; a WhatsApp address (whatsapp:+E.164) finds the
// region of its number.
func NewRouter(ix *geo.Index, locator *geo.Locator, agencies []AgencyArea, numberRegions map[string]string, defaultAgency string) *Router {
	r := &Router{ix: ix, locator: locator, byRegion: map[string][]string{}, numberRegion: numberRegions, defaultAgency: defaultAgency}
	for _, a := range agencies {
		for _, reg := range a.Regions {
			if !slices.Contains(r.byRegion[reg], a.ID) {
				r.byRegion[reg] = append(r.byRegion[reg], a.ID)
			}
		}
	}
	return r
}

// Decision is where a tip goes and why.
type Decision struct {
	Location *geo.Location
	Regions  []string          // regions containing the location
	Agencies []string          // who receives a sealed copy
	Region   map[string]string // agency -> the coarse region id stored in clear
	Reason   string
}

// Route locates the tip and picks its agencies: every agency whose regions
// contain the location; the hotline number's region only when the text
// carries no location; the default agency otherwise.
func (r *Router) Route(text string, hints geo.Hints, to string) Decision {
	d := Decision{Region: map[string]string{}}
	loc, found := r.locator.Locate(text, hints)
	if found {
		d.Location = &loc
	}
	switch reg := r.numberRegion[strings.TrimPrefix(to, "whatsapp:")]; {
	case found && (len(loc.Regions) > 0 || loc.HasPoint):
		// The regions that hold the whole place: a point's regions, or
		// for a named place only those that contain all of it. A point
		// that no region holds is a real location nobody covers.
		d.Regions = loc.Regions
		if r.assign(&d, d.Regions) {
			d.Reason = ReasonLocation
			return d
		}
		d.Reason = ReasonUncovered
	case reg != "":
		// No usable location in the text (none, an unresolved short link,
		// an ambiguous name): the number's region.
		d.Regions = []string{reg}
		if r.assign(&d, d.Regions) {
			d.Reason = ReasonNumberRegion
			return d
		}
		d.Reason = ReasonNumberUncovered
	case found:
		d.Reason = ReasonUnusable
	default:
		d.Reason = ReasonNoLocation
	}
	d.Agencies = []string{r.defaultAgency}
	return d
}

func (r *Router) assign(d *Decision, regions []string) bool {
	for _, reg := range regions {
		for _, a := range r.byRegion[reg] {
			if _, ok := d.Region[a]; !ok {
				d.Region[a] = reg
				d.Agencies = append(d.Agencies, a)
			}
		}
	}
	return len(d.Agencies) > 0
}
