package config_test

import (
	"maps"
	"testing"

	"github.com/hotline-org/hotline/gateway/config"
)

// TestNumbersByE164: a number written whatsapp:+... is the same number;
// "none" turns replies off and is never sent as a text.
func TestNumbersByE164(t *testing.T) {
	tw := config.Twilio{Numbers: map[string]config.Number{
		"+15005550006":          {Region: "lima", Reply: "none"},
		"whatsapp:+60123456789": {Region: "kuala-lumpur", Reply: "Terima kasih"},
		"+15005550007":          {Replies: config.RepliesNone},
		"not a number":          {Region: "lima"},
	}}
	by := tw.ByE164()
	if len(by) != 3 || by["+60123456789"].Region != "kuala-lumpur" {
		t.Fatalf("ByE164 = %v", by)
	}
	for num, want := range map[string]struct {
		off  bool
		text string
	}{"+15005550006": {true, ""}, "+60123456789": {false, "Terima kasih"}, "+15005550007": {true, ""}} {
		if n := by[num]; n.RepliesOff() != want.off || n.AckText() != want.text {
			t.Errorf("%s: off %v text %q, want %v %q", num, n.RepliesOff(), n.AckText(), want.off, want.text)
		}
	}
	if got, want := tw.NumberRegions(), map[string]string{"+15005550006": "lima", "+60123456789": "kuala-lumpur"}; !maps.Equal(got, want) {
		t.Fatalf("NumberRegions = %v, want %v", got, want)
	}
}

// TestVoiceDefaults: unset, the voice channel records five minutes, caps
// the download at 10 MiB, offers the urgent key and fetches the recordings
// of 20 calls a caller an hour (a bucket apart from the 60 messages).
func TestVoiceDefaults(t *testing.T) {
	c, err := config.Parse([]byte("channel: {voice: {}}\n"), t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Channel.Voice; v.MaxSeconds != 300 || v.MaxBytes != 10<<20 || !v.AskUrgentOn() {
		t.Fatalf("voice defaults %+v", v)
	}
	if l := c.Channel.Limits; l.CallerPerHour != 20 || l.SenderPerHour != 60 {
		t.Fatalf("limits %+v: want 20 calls and 60 messages a caller an hour", l)
	}
	c, err = config.Parse([]byte("channel: {limits: {caller_per_hour: 5}}\n"), t.TempDir(), func(string) string { return "" })
	if err != nil || c.Channel.Limits.CallerPerHour != 5 || c.Channel.Limits.SenderPerHour != 60 {
		t.Fatalf("caller_per_hour: 5 read as %+v (%v)", c.Channel.Limits, err)
	}
	off := false
	if (config.Voice{AskUrgent: &off}).AskUrgentOn() {
		t.Fatal("ask_urgent: false is on")
	}
	if _, err := config.Parse([]byte("channel: {voice: {max_second: 60}}\n"), t.TempDir(), func(string) string { return "" }); err == nil {
		t.Fatal("an unknown voice key was taken")
	}
}
