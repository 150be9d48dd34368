package handlers

import (
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/twiml"
)

// twimlAnswer is what Twilio reads of a Messaging answer.
type twimlAnswer struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []string `xml:"Message"`
}

// TestTwiMLAsTwilioGoWritesIt: writeTwiML's answer is, read as XML, the one
// twiml.Messages writes, for hostile replies too (markup, quotes, entities,
// line breaks, control characters, invalid UTF-8, the largest reply), and
// no reply is an empty Response.
func TestTwiMLAsTwilioGoWritesIt(t *testing.T) {
	replies := []string{"", "Recibido. Ref. K7XQ-2MPA", "<Message>x</Message></Response><Redirect>https://evil</Redirect>",
		`a & b "c" 'd' &amp; &#x41; ]]> <![CDATA[x]]>`, "line 1\nline 2\r\n\ttab", "bell \x07 nul \x00 esc \x1b[31m",
		"bad \xff\xfe utf-8", "ส่งแล้ว 退出 thoát ＳＴＯＰ 🙏", strings.Repeat("é<&", 400)}
	for _, reply := range replies {
		rec := httptest.NewRecorder()
		if err := writeTwiML(rec, reply); err != nil {
			t.Fatalf("%q: %v", reply, err)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/xml; charset=utf-8" {
			t.Fatalf("%q: Content-Type %q", reply, ct)
		}
		var verbs []twiml.Element
		if reply != "" {
			verbs = append(verbs, &twiml.MessagingMessage{Body: reply})
		}
		want, err := twiml.Messages(verbs)
		if err != nil {
			t.Fatal(err)
		}
		var got, ref twimlAnswer
		if err := xml.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%q: our answer is not XML: %v\n%s", reply, err, rec.Body)
		}
		if err := xml.Unmarshal([]byte(want), &ref); err != nil {
			t.Fatalf("%q: twilio-go's answer is not XML: %v\n%s", reply, err, want)
		}
		if len(got.Messages) != len(ref.Messages) || len(got.Messages) == 1 && got.Messages[0] != ref.Messages[0] {
			t.Fatalf("%q: we answer %q, twilio-go %q\n%s\n%s", reply, got.Messages, ref.Messages, rec.Body, want)
		}
		if reply != "" && !strings.HasPrefix(rec.Body.String(), `<?xml version="1.0" encoding="UTF-8"?><Response><Message>`) {
			t.Fatalf("%q: %s", reply, rec.Body)
		}
	}
}
