package geo

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// at is an expected point.
type at struct{ lat, lon float64 }

// locateCase is one message as a reporter might send it. The zero source
// means that no location may be found.
type locateCase struct {
	name   string
	text   string
	hints  Hints
	source Source
	point  *at     // expected point, within tol degrees
	tol    float64 // 0 means 1e-4 (about 11 m)
	in     string  // a region the gateway must route to
	notIn  string  // a region it must not route to
	region string  // expected Location.Region
	match  string  // expected Location.Match
}

func pt(lat, lon float64) *at { return &at{lat, lon} }

// Reference positions, checked against the real boundaries in
// TestRealBoundaries.
const (
	laMolina = "lc/LA MOLINA"
	callao   = "lc/CALLAO"
	limaDept = "pe/LIMA"
	kl       = "my/W.P. Kuala Lumpur"
	putra    = "my/W.P. Putrajaya"
	selangor = "my/Selangor"
)

var locateCases = []locateCase{
	// Decimal degrees, in the many ways people write them.
	{name: "google copy", text: "-12.0857, -76.9397", source: SourceDecimal, point: pt(-12.0857, -76.9397), in: laMolina, match: "-12.0857, -76.9397"},
	{name: "no space", text: "estamos aqui -12.0857,-76.9397 ayuda", source: SourceDecimal, point: pt(-12.0857, -76.9397), in: laMolina, match: "-12.0857,-76.9397"},
	{name: "space only", text: "-12.0857 -76.9397", source: SourceDecimal, point: pt(-12.0857, -76.9397)},
	{name: "unicode minus", text: "ubicación: −12.0857, −76.9397", source: SourceDecimal, point: pt(-12.0857, -76.9397), in: laMolina},
	{name: "letters after", text: "12.0857 S, 76.9397 W", source: SourceDecimal, point: pt(-12.0857, -76.9397), in: laMolina},
	{name: "letters glued", text: "12.0857S 76.9397W", source: SourceDecimal, point: pt(-12.0857, -76.9397)},
	{name: "letters before", text: "S 12.0857 W 76.9397", source: SourceDecimal, point: pt(-12.0857, -76.9397)},
	{name: "degree and letter", text: "3.1390° N, 101.6869° E", source: SourceDecimal, point: pt(3.139, 101.6869), in: kl},
	{name: "whole degrees with hemispheres", text: "12°S 77°W", source: SourceDecimal, point: pt(-12, -77)},
	{name: "spanish oeste", text: "12.0566 S 77.1181 O", source: SourceDecimal, point: pt(-12.0566, -77.1181), in: callao},
	{name: "spanish words", text: "12.0857 sur 76.9397 oeste", source: SourceDecimal, point: pt(-12.0857, -76.9397)},
	{name: "malay letters", text: "koordinat 3.0733 U 101.5185 T", source: SourceDecimal, point: pt(3.0733, 101.5185), in: selangor},
	{name: "lat lon words", text: "lat -12.0857 lon -76.9397", source: SourceDecimal, point: pt(-12.0857, -76.9397)},
	{name: "lat lng colon", text: "Lat: 3.139, Lng: 101.6869", source: SourceDecimal, point: pt(3.139, 101.6869), in: kl},
	{name: "latitude longitude lines", text: "Latitude: 2.9264\nLongitude: 101.6964", source: SourceDecimal, point: pt(2.9264, 101.6964), in: putra, notIn: selangor},
	{name: "lat/lon prefix", text: "Lat/Lon: -12.1211, -77.0297", source: SourceDecimal, point: pt(-12.1211, -77.0297), in: "lc/MIRAFLORES"},
	{name: "query style", text: "lat=-12.0857&lon=-76.9397", source: SourceDecimal, point: pt(-12.0857, -76.9397)},
	{name: "lon first by letters", text: "76.9397 W, 12.0857 S", source: SourceDecimal, point: pt(-12.0857, -76.9397)},
	{name: "geojson order", text: "[101.6869, 3.139]", source: SourceDecimal, point: pt(3.139, 101.6869), in: kl},
	{name: "decimal comma", text: "-12,0857; -76,9397", source: SourceDecimal, point: pt(-12.0857, -76.9397)},
	{name: "chinese keywords", text: "坐标：3.139, 101.6869", source: SourceDecimal, point: pt(3.139, 101.6869), in: kl},
	{name: "chinese hemispheres", text: "北纬3.0733度，东经101.5185度", source: SourceDecimal, point: pt(3.0733, 101.5185), in: selangor},
	{name: "chinese no spaces", text: "我在2.9264,101.6964这里", source: SourceDecimal, point: pt(2.9264, 101.6964), in: putra},
	{name: "in a sentence", text: "I am at 5.4141, 100.3288 please help", source: SourceDecimal, point: pt(5.4141, 100.3288), in: "my/Pulau Pinang"},

	// Degrees, minutes and seconds.
	{name: "google dms", text: `12°05'08.5"S 76°56'23.0"W`, source: SourceDMS, point: pt(-12.085694, -76.939722), in: laMolina},
	{name: "dms spaced", text: `12° 5' 8.5" S, 76° 56' 23" W`, source: SourceDMS, point: pt(-12.085694, -76.939722), tol: 1e-3},
	{name: "dms primes", text: "12°05′08.5″S 76°56′23.0″W", source: SourceDMS, point: pt(-12.085694, -76.939722)},
	{name: "dms ordinal and two apostrophes", text: "12º05'08.5''S 76º56'23.0''W", source: SourceDMS, point: pt(-12.085694, -76.939722)},
	{name: "dms letters", text: "12d05m08.5sS 76d56m23.0sW", source: SourceDMS, point: pt(-12.085694, -76.939722)},
	{name: "dms signed", text: `-12°05'08.5", -76°56'23.0"`, source: SourceDMS, point: pt(-12.085694, -76.939722)},
	{name: "dms prefix letters", text: `N 3°08'20.4" E 101°41'12.8"`, source: SourceDMS, point: pt(3.139, 101.686889), in: kl},
	{name: "dms north east", text: `3°08'20.4"N 101°41'12.8"E`, source: SourceDMS, point: pt(3.139, 101.686889), in: kl},
	{name: "degrees decimal minutes", text: "S 12° 05.142' W 76° 56.382'", source: SourceDMS, point: pt(-12.0857, -76.9397)},
	{name: "dms curly quotes", text: "2°55’35.0”N 101°41’47.0”E", source: SourceDMS, point: pt(2.926389, 101.696389), in: putra, notIn: selangor},
	{name: "dms chinese", text: "北纬3°04′24″ 东经101°31′07″", source: SourceDMS, point: pt(3.073333, 101.518611), in: selangor},

	// Google Maps links.
	{name: "google q", text: "https://maps.google.com/?q=-12.08,-76.93", source: SourceMapLink, point: pt(-12.08, -76.93), in: laMolina},
	{name: "google at", text: "https://www.google.com/maps/@3.1478,101.6953,15z", source: SourceMapLink, point: pt(3.1478, 101.6953), in: kl},
	{name: "google place data wins", text: "mira https://www.google.com/maps/place/La+Molina/@-12.0857,-76.9397,14z/data=!3m1!4b1!4m6!3m5!1s0x9105c6e0b0ddaa5b:0x5b1e8cda5d8b3b0!8m2!3d-12.0848!4d-76.9223!16zL20vMDNqYnlo aquí", source: SourceMapLink, point: pt(-12.0848, -76.9223), in: laMolina},
	{name: "google search api", text: "https://www.google.com/maps/search/?api=1&query=3.0733%2C101.5185", source: SourceMapLink, point: pt(3.0733, 101.5185), in: selangor},
	{name: "google country domain with dms", text: "https://www.google.com.pe/maps/place/12%C2%B005'08.5%22S+76%C2%B056'23.0%22W/@-12.0857,-76.9423,17z", source: SourceMapLink, point: pt(-12.085694, -76.939722)},
	{name: "google directions destination", text: "https://www.google.com/maps/dir/?api=1&destination=2.9264,101.6964", source: SourceMapLink, point: pt(2.9264, 101.6964), in: putra, notIn: selangor},
	{name: "google ll", text: "https://maps.google.com/maps?ll=-12.0566,-77.1181&z=15", source: SourceMapLink, point: pt(-12.0566, -77.1181), in: callao},
	{name: "google loc", text: "http://maps.google.com/maps?q=loc:-12.0857+-76.9397", source: SourceMapLink, point: pt(-12.0857, -76.9397)},
	{name: "google without scheme", text: "maps.google.com/?q=3.139,101.6869.", source: SourceMapLink, point: pt(3.139, 101.6869), match: "maps.google.com/?q=3.139,101.6869"},
	{name: "google dir path", text: "https://www.google.com/maps/dir/-12.05,-77.04/-12.0857,-76.9397/", source: SourceMapLink, point: pt(-12.0857, -76.9397)},
	{name: "google short link", text: "aqui estoy https://maps.app.goo.gl/q4VKxa2nDg7Z1fWf8", source: SourceLinkUnresolved, match: "https://maps.app.goo.gl/q4VKxa2nDg7Z1fWf8"},
	{name: "goo.gl maps", text: "(https://goo.gl/maps/Xk4bq1n2)", source: SourceLinkUnresolved, match: "https://goo.gl/maps/Xk4bq1n2"},
	{name: "place beats short link", text: "https://maps.app.goo.gl/q4VKxa2nDg7Z1fWf8 estoy en La Molina", source: SourcePlace, region: laMolina},

	// Apple Maps, OpenStreetMap, Waze.
	{name: "apple ll", text: "https://maps.apple.com/?ll=3.1478,101.6953&q=Dropped%20Pin", source: SourceMapLink, point: pt(3.1478, 101.6953), in: kl},
	{name: "apple q", text: "https://maps.apple.com/?q=-12.0857,-76.9397", source: SourceMapLink, point: pt(-12.0857, -76.9397)},
	{name: "apple sll", text: "https://maps.apple.com/?address=Jalan%20Ampang&sll=3.1590,101.7130", source: SourceMapLink, point: pt(3.159, 101.713), in: kl},
	{name: "osm map fragment", text: "https://www.openstreetmap.org/#map=17/-12.0857/-76.9397", source: SourceMapLink, point: pt(-12.0857, -76.9397), in: laMolina},
	{name: "osm marker wins", text: "https://www.openstreetmap.org/?mlat=3.0733&mlon=101.5185#map=12/3.2/101.6", source: SourceMapLink, point: pt(3.0733, 101.5185), in: selangor},
	{name: "osm short link", text: "http://osm.org/go/0GAjIv8h", source: SourceMapLink, point: pt(50.6715, 6.0972), tol: 1e-3},
	{name: "waze ll", text: "https://waze.com/ul?ll=3.14,101.69&navigate=yes", source: SourceMapLink, point: pt(3.14, 101.69), in: kl},
	{name: "waze escaped comma", text: "https://www.waze.com/ul?ll=3.0733%2C101.5185&navigate=yes&zoom=17", source: SourceMapLink, point: pt(3.0733, 101.5185), in: selangor},
	{name: "waze geohash", text: "Waze: https://waze.com/ul/hw283fjh32", source: SourceMapLink, point: pt(3.1478, 101.6953), tol: 1e-4, in: kl},
	{name: "waze live map", text: "https://www.waze.com/live-map/directions?to=ll.-12.0857%2C-76.9397", source: SourceMapLink, point: pt(-12.0857, -76.9397)},

	// geo: URIs (RFC 5870) and the Android form.
	{name: "geo uncertainty", text: "geo:3.139,101.6869;u=35", source: SourceGeoURI, point: pt(3.139, 101.6869), in: kl, match: "geo:3.139,101.6869;u=35"},
	{name: "geo crs wgs84", text: "geo:-12.0857,-76.9397;crs=wgs84;u=10", source: SourceGeoURI, point: pt(-12.0857, -76.9397), in: laMolina},
	{name: "geo upper case", text: "GEO:3.0733,101.5185", source: SourceGeoURI, point: pt(3.0733, 101.5185)},
	{name: "geo altitude", text: "geo:2.9264,101.6964,45", source: SourceGeoURI, point: pt(2.9264, 101.6964), in: putra},
	{name: "geo android q", text: "geo:0,0?q=2.9264,101.6964(Kilang)", source: SourceGeoURI, point: pt(2.9264, 101.6964), in: putra},

	// Plus codes.
	{name: "full plus code", text: "57V5W376+P4", source: SourcePlusCode, point: pt(-12.0857, -76.9397), tol: 2e-4, in: laMolina},
	{name: "short plus code with district", text: "W376+P4 La Molina", source: SourcePlusCode, point: pt(-12.0857, -76.9397), tol: 2e-4, in: laMolina, match: "W376+P4 La Molina"},
	{name: "short plus code kl", text: "Kami di 4MQP+JQ Kuala Lumpur, Malaysia", source: SourcePlusCode, point: pt(3.139, 101.6869), tol: 2e-4, in: kl},
	{name: "full plus code kl", text: "lokasi 6PM34MQP+JQ", source: SourcePlusCode, point: pt(3.139, 101.6869), tol: 2e-4},
	{name: "short plus code alone", text: "W376+P4", source: SourcePlusCodeShort, match: "W376+P4"},
	{name: "short plus code far from its locality", text: "QX4M+X2 La Molina", source: SourcePlace, region: laMolina},

	// Pins and form fields.
	{name: "whatsapp pin", hints: Hints{Latitude: "-12.0857", Longitude: "-76.9397"}, source: SourcePin, point: pt(-12.0857, -76.9397), in: laMolina},
	{name: "form beats text", text: "estoy en La Molina", hints: Hints{Latitude: "3.0733", Longitude: "101.5185", Source: SourceForm}, source: SourceForm, point: pt(3.0733, 101.5185)},
	{name: "bad pin falls back to text", text: "estoy en la molina", hints: Hints{Latitude: "NaN", Longitude: "-76.9"}, source: SourcePlace, region: laMolina},
	{name: "null island pin", text: "", hints: Hints{Latitude: "0", Longitude: "0"}},
	{name: "coordinates beat names", text: "estoy en Callao pero la ubicación es -12.0857, -76.9397", source: SourceDecimal, in: laMolina},

	// Place names: Spanish.
	{name: "district lower case", text: "estoy en la molina", source: SourcePlace, region: laMolina, match: "la molina"},
	{name: "district accents", text: "Me tienen encerrada en Breña", source: SourcePlace, region: "lc/BREÑA", match: "Breña"},
	{name: "district no accents", text: "estoy en brena cerca del mercado", source: SourcePlace, region: "lc/BREÑA"},
	{name: "longest name first", text: "nos llevaron a San Juan de Lurigancho", source: SourcePlace, region: "lc/SAN JUAN DE LURIGANCHO", match: "San Juan de Lurigancho"},
	{name: "common word with cue", text: "trabajo en Ate, en una fábrica", source: SourcePlace, region: "lc/ATE"},
	{name: "district and city", text: "Estoy en Miraflores, Lima", source: SourcePlace, region: "lc/MIRAFLORES"},
	// "Callao" alone is the province (the department CALLAO), the
	// district needs a district word (issue 17; before, the district).
	{name: "callao nested names", text: "ayuda estamos en el Callao", source: SourcePlace, region: "pe/CALLAO", notIn: callao},
	{name: "callao district named", text: "ayuda estamos en el Cercado del Callao", source: SourcePlace, region: callao, in: "pe/CALLAO"},
	{name: "mojibake alias", text: "vivo en Mi Perú, Callao", source: SourcePlace, region: "lc/MI PERÃz", match: "Mi Perú"},
	{name: "department", text: "estoy en una mina en Madre de Dios", source: SourcePlace, region: "pe/MADRE DE DIOS"},
	{name: "department cusco", text: "Nos tienen en CUSCO", source: SourcePlace, region: "pe/CUSCO"},
	{name: "punctuation in name", text: "me trajeron a Villa-María-del-Triunfo!!", source: SourcePlace, region: "lc/VILLA MARIA DEL TRIUNFO"},

	// Place names: Malay and English.
	{name: "malay street and city", text: "Jalan Ampang, Kuala Lumpur", source: SourcePlace, region: kl, notIn: selangor},
	{name: "malay putrajaya", text: "tolong, kami dikurung di Putrajaya", source: SourcePlace, region: putra, notIn: selangor},
	{name: "malay shah alam", text: "Saya di kilang di Shah Alam", source: SourcePlace, region: selangor},
	{name: "malay state", text: "kami di Pulau Pinang sekarang", source: SourcePlace, region: "my/Pulau Pinang"},
	{name: "english short alias", text: "they keep us near KL", source: SourcePlace, region: kl},
	{name: "english held", text: "I'm being held in a house in Johor", source: SourcePlace, region: "my/Johor"},
	{name: "english sabah", text: "Working on a palm oil estate in Sabah, no passport", source: SourcePlace, region: "my/Sabah"},

	// Place names: Chinese.
	{name: "chinese kl", text: "我们在吉隆坡", source: SourcePlace, region: kl, match: "吉隆坡"},
	{name: "chinese putrajaya", text: "我被关在布城的一个工厂里", source: SourcePlace, region: putra, match: "布城"},
	{name: "chinese selangor", text: "他们把我们带到雪兰莪州", source: SourcePlace, region: selangor},
	{name: "chinese penang", text: "救命，我在槟城", source: SourcePlace, region: "my/Pulau Pinang"},
	{name: "chinese lima", text: "我在利马", source: SourcePlace, region: limaDept, notIn: "lc/LIMA"}, // the city, not the Cercado (issue 17)
	{name: "chinese cusco", text: "我们在库斯科工作", source: SourcePlace, region: "pe/CUSCO"},

	// Places as locals write them (issue 17).
	{name: "district short name", text: "nos tienen en SJL por canto rey", source: SourcePlace, region: "lc/SAN JUAN DE LURIGANCHO", in: limaDept, match: "SJL"},
	{name: "typo in a long district", text: "estamos en villa maria del trinfo, arriba del cerro", source: SourcePlace, region: "lc/VILLA MARIA DEL TRIUNFO", in: limaDept},
	{name: "letters swapped", text: "me llevaron a Carabyallo", source: SourcePlace, region: "lc/CARABAYLLO"},
	{name: "district word asks for the district", text: "distrito de Lima, por la plaza dos de mayo", source: SourcePlace, region: "lc/LIMA", in: limaDept},
	{name: "bare lima is the department", text: "nos trajeron a Lima en bus desde Pucallpa", source: SourcePlace, region: limaDept, notIn: "lc/LIMA"},
	{name: "address part common word", text: "Comas, por la av. Tupac Amaru", source: SourcePlace, region: "lc/COMAS"},
	{name: "federal territory written out", text: "federal territory of labuan, on a fishing boat", source: SourcePlace, region: "my/W.P. Labuan", notIn: selangor},
	{name: "city for its state", text: "kerja kat kilang di Ipoh, Perak", source: SourcePlace, region: "my/Perak"},
	{name: "malay short name", text: "tolong sy kat JB sekarang", source: SourcePlace, region: "my/Johor"},
	{name: "chinese city for its state", text: "我在新山的工厂", source: SourcePlace, region: "my/Johor"},
	{name: "traditional chinese", text: "我們在檳城", source: SourcePlace, region: "my/Pulau Pinang"},
	{name: "malay silver", text: "dia curi rantai perak sy"},
	{name: "malay factory near kelang", text: "kami kat kilang plastik"},
	{name: "spanish silent near callao", text: "el jefe esta callado y nos mira"},

	// What must not be read as a location.
	{name: "phone peru", text: "llámame al +51 987 654 321"},
	{name: "phone malaysia", text: "hubungi +60 12-345 6789"},
	{name: "price soles", text: "me pagan S/ 12.50 al día"},
	{name: "prices pair", text: "cuesta 12.50 y 13.75"},
	{name: "price thousands", text: "debo S/. 1,250.00 y 3,400.50"},
	{name: "ringgit", text: "gaji RM 3.50 sejam, RM 1,200.00 sebulan"},
	{name: "time", text: "a las 12:30 vienen"},
	{name: "times with dots", text: "entre las 12.30 y 13.45"},
	{name: "date dots", text: "desde el 12.05.2024"},
	{name: "date slashes", text: "llegué el 15/08/2024"},
	{name: "lone negative", text: "-12"},
	{name: "lone decimal", text: "-12.0857"},
	{name: "ip address", text: "192.168.1.10"},
	{name: "version", text: "app version 2.4.1 and 3.5.2"},
	{name: "arithmetic", text: "2+2=4 and 1234+56"},
	{name: "malay five", text: "lima orang pekerja dikurung"},
	{name: "malay five capital", text: "Lima orang pekerja dikurung"},
	{name: "english ate", text: "I ate nothing for two days"},
	{name: "spanish commas", text: "sin comas ni puntos"},
	{name: "shouting", text: "NO HE COMIDO. ATE NADA"},
	{name: "unrelated link numbers", text: "https://example.com/track?id=12.3456,76.9397"},
	{name: "geo other crs", text: "geo:12.08,-76.93;crs=nad27"},
	{name: "geo crs not first", text: "geo:12.08,-76.93;u=5;crs=wgs84"},
	{name: "null island", text: "0.000, 0.000"},
	{name: "latitude out of range", text: "95.1234, 100.1234"},
	{name: "minutes out of range", text: `12°75'08"S 76°56'23"W`},
	{name: "contradictory sign", text: "-12.0857 N, 76.9397 E"},
	{name: "temperatures", text: "aquí hace 30° y de noche 25°"},
	{name: "fever", text: "tiene fiebre de 38.5° y 39.1°"},
	{name: "distances", text: "caminamos 3.5 km y 101.6 km"},
	{name: "nothing", text: "necesito ayuda por favor"},
	{name: "empty", text: ""},
}

func TestLocate(t *testing.T) {
	ix, l := testLocator(t)
	for _, tc := range locateCases {
		t.Run(tc.name, func(t *testing.T) {
			loc, ok := l.Locate(tc.text, tc.hints)
			if tc.source == "" {
				if ok {
					t.Fatalf("Locate(%q) = %+v, want nothing", tc.text, loc)
				}
				return
			}
			if !ok {
				t.Fatalf("Locate(%q) found nothing, want %s", tc.text, tc.source)
			}
			if loc.Source != tc.source {
				t.Errorf("source = %s, want %s (%+v)", loc.Source, tc.source, loc)
			}
			if tc.text[loc.Start:loc.End] != loc.Match {
				t.Errorf("span [%d:%d] is %q, Match %q", loc.Start, loc.End, tc.text[loc.Start:loc.End], loc.Match)
			}
			if tc.match != "" && loc.Match != tc.match {
				t.Errorf("match = %q, want %q", loc.Match, tc.match)
			}
			if tc.point != nil {
				tol := tc.tol
				if tol == 0 {
					tol = 1e-4
				}
				if !loc.HasPoint || math.Abs(loc.Point.Lat-tc.point.lat) > tol || math.Abs(loc.Point.Lon-tc.point.lon) > tol {
					t.Errorf("point = %+v (has %v), want %v ±%g", loc.Point, loc.HasPoint, *tc.point, tol)
				}
			}
			if tc.region != "" && loc.Region != tc.region {
				t.Errorf("region = %q, want %q", loc.Region, tc.region)
			}
			routes := route(t, ix, loc)
			if tc.region != "" && !slices.Contains(routes, tc.region) {
				t.Errorf("routes %v do not include the named region %q", routes, tc.region)
			}
			if tc.in != "" && !slices.Contains(routes, tc.in) {
				t.Errorf("routes %v, want %q among them", routes, tc.in)
			}
			if tc.notIn != "" && slices.Contains(routes, tc.notIn) {
				t.Errorf("routes %v include %q", routes, tc.notIn)
			}
		})
	}
}

// TestLocateCaseCount keeps the table honest: the issue asks for at least
// 60 real-world strings across the four languages.
func TestLocateCaseCount(t *testing.T) {
	positive := 0
	for _, tc := range locateCases {
		if tc.source != "" && tc.text != "" {
			positive++
		}
	}
	if positive < 60 {
		t.Errorf("%d positive cases with text, want at least 60", positive)
	}
	names := map[string]bool{}
	for _, tc := range locateCases {
		if names[tc.name] {
			t.Errorf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		if strings.TrimSpace(tc.name) == "" {
			t.Errorf("case %q has no name", tc.text)
		}
	}
}

// TestLocateConcurrent runs the locator from many goroutines, as the
// gateway does; run with -race.
func TestLocateConcurrent(t *testing.T) {
	_, l := testLocator(t)
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			for _, tc := range locateCases {
				loc, _ := l.Locate(tc.text, tc.hints)
				loc.Regions = append(loc.Regions, "scribble") // must not reach shared state
			}
			done <- true
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	loc, _ := l.Locate("estoy en la molina", Hints{})
	if slices.Contains(loc.Regions, "scribble") {
		t.Error("a caller's append changed the locator's state")
	}
}

// TestLocateAll shows every finding, best first.
func TestLocateAll(t *testing.T) {
	_, l := testLocator(t)
	all := l.LocateAll("https://maps.app.goo.gl/abc estoy en La Molina, Lima, -12.0566, -77.1181", Hints{Latitude: "3.139", Longitude: "101.6869"})
	var got []string
	for _, loc := range all {
		got = append(got, string(loc.Source)+":"+loc.Match)
	}
	want := []string{"pin:", "decimal:-12.0566, -77.1181", "place:La Molina", "place:Lima", "link_unresolved:https://maps.app.goo.gl/abc"}
	if !slices.Equal(got, want) {
		t.Errorf("LocateAll = %q, want %q", got, want)
	}
}

// TestMaxLocateText checks that a location past the bound is not read, and
// that a huge message is handled in bounded time.
func TestMaxLocateText(t *testing.T) {
	_, l := testLocator(t)
	text := strings.Repeat("la ", maxLocateText/3+10) + "-12.0857, -76.9397"
	if loc, ok := l.Locate(text, Hints{}); ok {
		t.Errorf("found %+v past the limit", loc)
	}
}

// TestLocateWithoutRegions: with no index the locator still reads
// coordinates, and routes them nowhere.
func TestLocateWithoutRegions(t *testing.T) {
	l := NewLocator(nil)
	loc, ok := l.Locate("estoy en La Molina -12.0857, -76.9397", Hints{})
	if !ok || loc.Source != SourceDecimal || len(loc.Regions) != 0 {
		t.Errorf("Locate = %+v, %v", loc, ok)
	}
	if loc, ok := l.Locate("estoy en La Molina", Hints{}); ok {
		t.Errorf("a name without a gazetteer: %+v", loc)
	}
}
