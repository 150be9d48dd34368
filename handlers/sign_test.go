package handlers_test

import (
	"net/url"
	"testing"

	"github.com/hotline-org/hotline/handlers"
	twclient "github.com/twilio/twilio-go/client"
)

// twilioGoValid is the webhook check as it was, with twilio-go's validator.
func twilioGoValid(token, fullURL string, form url.Values, sig string) bool {
	params := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	v := twclient.NewRequestValidator(token)
	return v.Validate(fullURL, params, sig)
}

func TestValidTwilioSignature(t *testing.T) {
	const token = "12345"
	form := url.Values{"MessageSid": {"SM1"}, "From": {"+15005550006"}, "Body": {"ayuda"}, "To": {"+51987654321"}}
	cases := []struct {
		name, signed, checked string
		form                  url.Values
		want                  bool
	}{
		{"as configured", "https://hotline.example.org/twilio/sms", "https://hotline.example.org/twilio/sms", form, true},
		{"Twilio added the default port", "https://hotline.example.org:443/twilio/sms", "https://hotline.example.org/twilio/sms", form, true},
		{"Twilio left the port out", "https://hotline.example.org/twilio/sms", "https://hotline.example.org:8443/twilio/sms", form, true},
		{"http's default port", "http://127.0.0.1:80/twilio/sms?x=1", "http://127.0.0.1/twilio/sms?x=1", form, true},
		{"another path", "https://hotline.example.org/twilio/status", "https://hotline.example.org/twilio/sms", form, false},
		{"another host", "https://evil.example/twilio/sms", "https://hotline.example.org/twilio/sms", form, false},
		{"another port", "https://hotline.example.org:8443/twilio/sms", "https://hotline.example.org:9443/twilio/sms", form, false},
		{"a parameter changed", "https://hotline.example.org/twilio/sms", "https://hotline.example.org/twilio/sms",
			url.Values{"MessageSid": {"SM1"}, "From": {"+15005550007"}, "Body": {"ayuda"}, "To": {"+51987654321"}}, false},
		{"a parameter added", "https://hotline.example.org/twilio/sms", "https://hotline.example.org/twilio/sms",
			url.Values{"MessageSid": {"SM1"}, "From": {"+15005550006"}, "Body": {"ayuda"}, "To": {"+51987654321"}, "X": {""}}, false},
	}
	for _, c := range cases {
		sig := handlers.TwilioSignature([]byte(token), c.signed, form)
		got := handlers.ValidTwilioSignature([]byte(token), c.checked, c.form, sig)
		if got != c.want {
			t.Errorf("%s: valid = %v, want %v", c.name, got, c.want)
		}
		if old := twilioGoValid(token, c.checked, c.form, sig); old != got {
			t.Errorf("%s: twilio-go says %v, ValidTwilioSignature %v", c.name, old, got)
		}
	}
	sig := handlers.TwilioSignature([]byte(token), "https://hotline.example.org/twilio/sms", form)
	for _, bad := range []string{"", "x", sig[:len(sig)-1], sig + "=", sig[:len(sig)-2] + "A=", "   " + sig} {
		if handlers.ValidTwilioSignature([]byte(token), "https://hotline.example.org/twilio/sms", form, bad) {
			t.Errorf("signature %q accepted", bad)
		}
	}
	if handlers.ValidTwilioSignature([]byte("54321"), "https://hotline.example.org/twilio/sms", form, sig) {
		t.Error("a signature under another token accepted")
	}
}

// FuzzValidTwilioSignature checks that the webhook decides as twilio-go's
// validator does, for any URL, form and signature, and for the signature
// made of them (as given, or with the other port form).
func FuzzValidTwilioSignature(f *testing.F) {
	f.Add("https://hotline.example.org/twilio/sms", "From=%2B15005550006&Body=hi&MessageSid=SM1", "", "tok", uint8(0))
	f.Add("https://hotline.example.org:443/twilio/sms", "Body=a&Body=b", "", "tok", uint8(1))
	f.Add("http://[::1]:8080/twilio/sms?q=%20", "A=1&a=2&B=", "", "", uint8(2))
	f.Add("http://h:x/p", "", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "t", uint8(0))
	f.Add("https://user:pw@h.example/%zz", "=&&=x", "", "t", uint8(3))
	f.Fuzz(func(t *testing.T, rawURL, body, sig, token string, how uint8) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		signed := rawURL
		switch how % 4 {
		case 1:
			if u, err := url.Parse(rawURL); err == nil && u.Port() == "" {
				u.Host += ":443"
				signed = u.String()
			}
		case 2:
			if u, err := url.Parse(rawURL); err == nil && u.Port() != "" {
				u.Host = u.Hostname()
				signed = u.String()
			}
		}
		if sig == "" {
			first := url.Values{}
			for k, v := range form {
				first[k] = v[:1]
			}
			sig = handlers.TwilioSignature([]byte(token), signed, first)
		}
		got := handlers.ValidTwilioSignature([]byte(token), rawURL, form, sig)
		if want := twilioGoValid(token, rawURL, form, sig); got != want {
			t.Fatalf("url %q form %q sig %q: ValidTwilioSignature %v, twilio-go %v", rawURL, body, sig, got, want)
		}
	})
}
