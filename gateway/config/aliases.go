package config

import (
	"errors"
	"fmt"
	"sort"

	"github.com/hotline-org/hotline/gateway/geo"
	"go.yaml.in/yaml/v3"
)

// RegionAliases are the names people use for a region's places, for the
// gazetteer: exonyms, other scripts, short and local names. In the file it
// is either a map from a name to the feature it names,
//
//	aliases: {"吉隆坡": "W.P. Kuala Lumpur", KL: "W.P. Kuala Lumpur"}
//
// or, as before issue 17, a list of names for the region as a whole,
//
//	aliases: [La Molina, UNALM]
//
// which reads as a map to "" (the region). A feature is named by its value
// of name_property, with or without administrative words ("Kuala Lumpur"
// for "W.P. Kuala Lumpur"); a name that matches no feature of the region
// is an error of check-config and of serve, because it would quietly fail
// to route.
type RegionAliases map[string]string

// UnmarshalYAML reads the map form or the list form.
func (a *RegionAliases) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]string
		if err := n.Decode(&m); err != nil {
			return errors.New("aliases: each entry must be name: feature, both strings")
		}
		*a = m
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err != nil {
			return errors.New("aliases: a list of names must hold strings only")
		}
		m := make(map[string]string, len(names))
		for _, name := range names {
			m[name] = ""
		}
		*a = m
	default:
		return errors.New("aliases: write a map of name: feature, or a list of names for the whole region")
	}
	return nil
}

// validateAliases checks what can be checked without the boundary files:
// names with letters, list-form names only where they name one region,
// feature names only where there are named features. That each feature
// exists is checked when the regions are loaded (check-config does both).
func (r Region) validateAliases(field string, add func(string, string, string)) {
	names := make([]string, 0, len(r.Aliases))
	for name := range r.Aliases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		feature := r.Aliases[name]
		f := fmt.Sprintf("%s.aliases.%s", field, name)
		switch {
		case geo.FoldName(name) == "":
			add(f, "has no letters or digits: it can never match a message", "remove it, or write the name as people text it")
		case feature == "" && r.EachFeature:
			add(f, "names no feature, but each_feature makes one region per feature",
				fmt.Sprintf("write it as %q: FEATURE, with the feature's %s", name, r.NameProperty))
		case feature != "" && len(r.Polygon) > 0:
			add(f, "names a feature, but an inline polygon has none", fmt.Sprintf("write it as %q: \"\" or in the list form", name))
		case feature != "" && r.NameProperty == "":
			add(f, "names a feature, but the region has no name_property to find it by", "set name_property, or name the whole region with \"\"")
		}
	}
}
