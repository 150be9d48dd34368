package twilioapi

import (
	"strings"
	"testing"
)

// FuzzParseMediaURL: a webhook's MediaUrl is outside input. Whatever it is,
// parsing never panics, and what it accepts is a media path of this account
// on Twilio's host or the configured one, with well-formed SIDs that
// round-trip.
func FuzzParseMediaURL(f *testing.F) {
	c, err := New(Options{AccountSID: testSID, AuthToken: testToken, APIURL: "http://127.0.0.1:8081/fake"})
	if err != nil {
		f.Fatal(err)
	}
	base := "/2010-04-01/Accounts/" + testSID + "/Messages/" + msgSID + "/Media/" + mediaA
	for _, s := range []string{
		"https://api.twilio.com" + base, "http://127.0.0.1:8081/fake" + base, "https://api.twilio.com" + base + ".json",
		"https://api.twilio.com/../" + base, "https://evil" + base, "https://api.twilio.com%2F" + base, "", "\x00",
		"https://api.twilio.com" + strings.Replace(base, "ME", "me", 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := c.ParseMediaURL(raw)
		if err != nil {
			if m != (MediaURL{}) {
				t.Fatalf("error with a result: %+v", m)
			}
			return
		}
		if !messageSID.MatchString(m.MessageSID) || !mediaSID.MatchString(m.MediaSID) {
			t.Fatalf("accepted bad SIDs %+v from %q", m, raw)
		}
		// Schemes and hosts are case-insensitive (RFC 3986): "Http://" is
		// the configured host too.
		if l := strings.ToLower(raw); !strings.HasPrefix(l, "https://api.twilio.com/") && !strings.HasPrefix(l, "http://127.0.0.1:8081/fake/") {
			t.Fatalf("accepted %q", raw)
		}
		if !strings.Contains(raw, "/Accounts/"+testSID+"/Messages/"+m.MessageSID+"/Media/"+m.MediaSID) {
			t.Fatalf("SIDs %+v not in %q", m, raw)
		}
	})
}

// FuzzParseRecordingURL: a recording callback's RecordingUrl is outside
// input. What parsing accepts is a recording of this account on Twilio's
// host or the configured one, whose SID is in the URL as given.
func FuzzParseRecordingURL(f *testing.F) {
	c, err := New(Options{AccountSID: testSID, AuthToken: testToken, APIURL: "http://127.0.0.1:8081/fake"})
	if err != nil {
		f.Fatal(err)
	}
	base := "/2010-04-01/Accounts/" + testSID + "/Recordings/" + recA
	for _, s := range []string{
		"https://api.twilio.com" + base, "http://127.0.0.1:8081/fake" + base + ".mp3", "https://api.twilio.com" + base + ".wav",
		"https://evil" + base, "https://api.twilio.com" + base + ".json.mp3", "", "https://api.twilio.com" + base + "#x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		sid, err := c.ParseRecordingURL(raw)
		if err != nil {
			if sid != "" {
				t.Fatalf("error with a result: %q", sid)
			}
			return
		}
		if !ValidRecordingSID(sid) {
			t.Fatalf("accepted bad SID %q from %q", sid, raw)
		}
		// Schemes and hosts are case-insensitive (RFC 3986): "Http://" is
		// the configured host too.
		if l := strings.ToLower(raw); !strings.HasPrefix(l, "https://api.twilio.com/") && !strings.HasPrefix(l, "http://127.0.0.1:8081/fake/") {
			t.Fatalf("accepted %q", raw)
		}
		if !strings.Contains(raw, "/Accounts/"+testSID+"/Recordings/"+sid) {
			t.Fatalf("SID %q not in %q", sid, raw)
		}
	})
}
