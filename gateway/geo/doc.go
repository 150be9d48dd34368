// Package geo finds where a tip is about and which configured regions
// contain that place, so that the tip is sealed to the agencies that cover
// it and to no others.
//
// Routing decides who can read a tip, so this package is exact rather than
// clever, and it protects against these failures:
//
//   - Misrouting by geometry. Polygons are tested exactly, holes honoured
//     (Kuala Lumpur and Putrajaya are holes in Selangor), after an R-tree
//     has narrowed thousands of polygons to a few. Load refuses what planar
//     point-in-polygon would answer wrongly without an error: rings not
//     closed or too short, coordinates off the globe or not numbers
//     (often [lat, lon] swapped), rings across the antimeridian, rings
//     without area, a coordinate system other than WGS84, features that
//     are not polygons, a feature name that matches nothing. Every problem
//     is reported at once.
//   - Misrouting by reading. Prices (S/ 12.50, RM 1,200.00), times, dates,
//     phone numbers, IP addresses and lone numbers are not coordinates; a
//     bare pair of decimals counts only when it looks like what a map app
//     produces. Place names that are everyday words (Ate, Comas, "lima",
//     five in Malay, "perak", silver) need a sign that they name a place,
//     and so does a short name read through a typo. A name shared by
//     several places is settled by the rest of the text or reported as
//     ambiguous, never guessed; a name a district shares with the
//     department around it is the department unless a district word says
//     otherwise ("Lima", "Cercado de Lima"); a named place routes to the
//     regions that hold most of it, not to whichever district holds its
//     middle, and one place traced by two agencies' layers to both.
//   - Missing a place written the local way. Names are found with and
//     without administrative words (W.P., Wilayah Persekutuan, distrito
//     de, provincia, negeri, state...), through built-in local names for
//     the documented boundary files (SJL, KL, JB, 吉隆坡) and the
//     configured aliases, and with one typo in names of six letters or
//     more (names.go).
//   - Leaks through the network. Short links (maps.app.goo.gl, goo.gl/maps,
//     maps.apple/p) are never fetched: a fetch would tell the link's owner
//     that someone looked, and would let a sender make the gateway call any
//     address. They are reported as unresolved for the officer. Waze
//     geohash links and OpenStreetMap short links hold their position and
//     are decoded offline.
//   - Crashes and stalls on hostile input. Every parser is a bounded scan
//     (the locator reads at most the first 64 KiB of a message), covered
//     by a fuzz target; spans always lie within the text.
//
// The package never sees who sent a tip, and neither it nor its errors log
// or return message text: errors name regions, files and features only.
// Twilio's FromCity and FromCountry describe the phone number, not the
// person, and are not an input here.
package geo
