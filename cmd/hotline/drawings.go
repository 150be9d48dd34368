package main

import (
	"fmt"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/geo"
)

// regionDrawings draws each agency's regions once, at start, for the
// officer API's GET /regions (the console's map).
func regionDrawings(ix *geo.Index, c *config.Config) (map[string][]byte, error) {
	out := make(map[string][]byte, len(c.Agencies))
	for _, a := range c.Agencies {
		doc, err := ix.Drawing(a.Regions)
		if err != nil {
			return nil, fmt.Errorf("agency %s: %w", a.ID, err)
		}
		out[a.ID] = doc
	}
	return out, nil
}
