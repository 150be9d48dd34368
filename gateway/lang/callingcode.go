package lang

import (
	"golang.org/x/text/language"

	"github.com/hotline-org/hotline/crypto/pseudonym"
)

// callingCodes gives, for a country calling code (or a North American area
// code after the 1), the languages most likely in a text from there, in
// order. It breaks ties only, so it lists what people there write, not every
// language spoken: Singapore's numbers lean Chinese, then English, then
// Malay.
var callingCodes = map[string][]langID{
	"1":    {en, es},
	"1787": {es, en}, // Puerto Rico
	"1939": {es, en},
	"1809": {es}, // Dominican Republic
	"1829": {es},
	"1849": {es},
	"27":   {en},
	"34":   {es},
	"44":   {en},
	"51":   {es},
	"52":   {es},
	"53":   {es},
	"54":   {es},
	"56":   {es},
	"57":   {es},
	"58":   {es},
	"60":   {ms, en, zh},
	"61":   {en},
	"62":   {id},
	"63":   {fil, en},
	"64":   {en},
	"65":   {zh, en, ms},
	"66":   {th},
	"84":   {vi},
	"86":   {zh},
	"240":  {es},
	"353":  {en},
	"501":  {en, es},
	"502":  {es},
	"503":  {es},
	"504":  {es},
	"505":  {es},
	"506":  {es},
	"507":  {es},
	"591":  {es},
	"593":  {es},
	"595":  {es},
	"598":  {es},
	"673":  {ms},
	"852":  {zh, en},
	"853":  {zh},
	"886":  {zh},
}

// migrantCodes are places where many migrant workers use local numbers. A
// number from there says nothing when the text says nothing, but between two
// languages the text leaves open (Malay or Indonesian, English or Filipino)
// it says which community is the larger one: Indonesian and Filipino domestic
// workers in Hong Kong and the Gulf, Indonesian and Vietnamese workers in
// Taiwan. Countries whose people write to the hotline in none of its
// languages (Myanmar, Cambodia, Bangladesh, Nepal) give no hint at all.
var migrantCodes = map[string][]langID{
	"852": {id, fil},
	"886": {id, vi},
	"966": {id, fil}, // Saudi Arabia
	"971": {fil, id}, // United Arab Emirates
	"974": {fil, id}, // Qatar
	"965": {fil, id}, // Kuwait
	"968": {id, fil}, // Oman
	"973": {fil, id}, // Bahrain
}

// hintFor returns the languages suggested by the calling code of an E.164
// address (nil when none), and those that may break a tie besides.
func hintFor(e164 string) (hint, tie []langID) {
	if e164 == "" {
		return nil, nil
	}
	n, err := pseudonym.NormalizeE164(e164)
	if err != nil {
		return nil, nil
	}
	digits := n[1:]
	// Calling codes are prefix-free and one to three digits long; the
	// four-digit keys are North American area codes.
	for l := min(4, len(digits)); l >= 1; l-- {
		h, ok1 := callingCodes[digits[:l]]
		m, ok2 := migrantCodes[digits[:l]]
		if ok1 || ok2 {
			return h, append(append([]langID(nil), h...), m...)
		}
	}
	return nil, nil
}

// CallingCodeHint returns the languages the calling code of an E.164 address
// suggests, most likely first (nil when it suggests none). The detector uses
// it to break ties; callers may use it to pick a default.
func CallingCodeHint(e164 string) []language.Tag {
	h, _ := hintFor(e164)
	if h == nil {
		return nil
	}
	out := make([]language.Tag, len(h))
	for i, l := range h {
		out[i] = tags[l]
	}
	return out
}
