package geo_test

import (
	"fmt"

	"github.com/hotline-org/hotline/gateway/geo"
)

func ExampleLocator_Locate() {
	ix, err := geo.Load([]geo.RegionSpec{{
		ID:      "la-molina",
		Polygon: [][][2]float64{{{-76.98, -12.12}, {-76.88, -12.12}, {-76.88, -12.04}, {-76.98, -12.04}}},
		Aliases: map[string]string{"La Molina": ""}, // "" names the region as a whole
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := geo.NewLocatorWithAliases(ix, map[string]string{"UNALM": "la-molina"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, text := range []string{
		"ayuda, estoy en -12.0857, -76.9397",
		"https://waze.com/ul?ll=-12.0857%2C-76.9397&navigate=yes",
		"estoy en la molina",
		"cerca de la UNALM",
		"https://maps.app.goo.gl/q4VKxa2nDg7Z1fWf8",
		"me pagan S/ 12.50 a las 12:30",
	} {
		loc, ok := l.Locate(text, geo.Hints{})
		fmt.Println(ok, loc.Source, loc.Regions, loc.Match)
	}
	// Output:
	// true decimal [la-molina] -12.0857, -76.9397
	// true map_link [la-molina] https://waze.com/ul?ll=-12.0857%2C-76.9397&navigate=yes
	// true place [la-molina] la molina
	// true place [la-molina] UNALM
	// true link_unresolved [] https://maps.app.goo.gl/q4VKxa2nDg7Z1fWf8
	// false  []
}

func ExampleParseCoordinates() {
	for _, s := range []string{"-12.0464, -77.0428", "-12,0464 -77,0428", `12°02'47"S 77°02'34"W`, "near the market"} {
		p, ok := geo.ParseCoordinates(s)
		fmt.Printf("%.4f %.4f %v\n", p.Lat, p.Lon, ok)
	}
	// Output:
	// -12.0464 -77.0428 true
	// -12.0464 -77.0428 true
	// -12.0464 -77.0428 true
	// 0.0000 0.0000 false
}
