package svgmap_test

import (
	"fmt"

	"github.com/hotline-org/hotline/gateway/geo/svgmap"
)

func ExampleRender() {
	regions := []byte(`{"type":"FeatureCollection","features":[
	 {"type":"Feature","properties":{"region":"lima","name":"Lima"},
	  "geometry":{"type":"Polygon","coordinates":[[[-77.2,-12.4],[-76.7,-12.4],[-76.7,-11.7],[-77.2,-11.7],[-77.2,-12.4]]]}}]}`)
	svg, err := svgmap.Render(regions, &svgmap.Point{Lat: -12.05, Lon: -77.04}, svgmap.Options{Width: 200, Height: 200, Highlight: []string{"lima"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(svg)
	// Output:
	// <svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" viewBox="0 0 200 200" width="200" height="200"><path class="region hit" fill-rule="evenodd" d="M35.7 192L164.3 192L164.3 8L35.7 8Z"><title>Lima</title></path><circle class="tip" cx="76.9" cy="100" r="5"></circle></svg>
}
