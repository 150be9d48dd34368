package handlers

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
)

// TwilioSignature computes X-Twilio-Signature for a form POST to fullURL as
// Twilio does: HMAC-SHA1 under the auth token over the URL followed by each
// parameter name and value, sorted by name. It is used by `hotline simulate`
// and by tests; the webhook itself checks with twilio-go's validator.
func TwilioSignature(authToken []byte, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, authToken)
	m.Write([]byte(fullURL))
	for _, k := range keys {
		for _, v := range form[k] {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
