package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers"
)

// cmdSimulate posts a message to a running gateway, signed as Twilio signs
// it, for demos and for operators checking a deployment end to end.
func cmdSimulate(e *env, args []string) error {
	const synopsis = "simulate sms|call|recording --config FILE [flags]"
	if err := e.verb(args, synopsis); err != nil {
		return err
	}
	switch args[0] {
	case "call":
		return simulateCall(e, args[1:])
	case "recording":
		return simulateRecording(e, args[1:])
	}
	if args[0] != "sms" {
		fmt.Fprintf(e.stderr, "hotline: unknown simulate command %q\nusage: hotline %s\n", args[0], synopsis)
		return errUsage
	}
	fs := e.newFlags("simulate sms", "simulate sms --config FILE --body TEXT [flags]")
	sf := addSimulateFlags(fs, true)
	cfgPath, server, publicURL, from, to := sf.config, sf.server, sf.publicURL, sf.from, sf.to
	body := fs.String("body", "", "the message `text`")
	whatsapp := fs.Bool("whatsapp", false, "send as a WhatsApp message")
	lat := fs.String("lat", "", "WhatsApp location pin latitude")
	lon := fs.String("lon", "", "WhatsApp location pin longitude")
	sid := fs.String("sid", "", "the MessageSid (default: random; repeat one to test deduplication)")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *cfgPath == "" || (*body == "" && *lat == "") {
		fs.Usage()
		return errUsage
	}
	c, token, err := simulateTarget(*cfgPath, server, publicURL, to)
	if err != nil {
		return err
	}
	if *sid == "" {
		*sid = randomSID("SM")
	}
	form := url.Values{
		"MessageSid": {*sid}, "SmsSid": {*sid}, "AccountSid": {c.Twilio.AccountSID},
		"From": {*from}, "To": {*to}, "Body": {*body}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"},
	}
	if *whatsapp {
		form.Set("From", "whatsapp:"+strings.TrimPrefix(*from, "whatsapp:"))
		form.Set("To", "whatsapp:"+strings.TrimPrefix(*to, "whatsapp:"))
		form.Set("ProfileName", "Simulated")
		form.Set("WaId", strings.TrimPrefix(*from, "+"))
	}
	if *lat != "" {
		form.Set("Latitude", *lat)
		form.Set("Longitude", *lon)
	}
	status, data, err := postSigned(e, *server, *publicURL, "/twilio/sms", token, form)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("gateway answered %d: %s", status, strings.TrimSpace(string(data)))
	}
	var twiml struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(data, &twiml); err != nil {
		return fmt.Errorf("gateway answered 200 but not with TwiML: %w", err)
	}
	if *sf.json {
		return writeJSON(e.stdout, simulatedSMS{SID: *sid, Status: status, Replies: append([]string{}, twiml.Messages...)}, false)
	}
	fmt.Fprintf(e.stdout, "sent %s: 200 OK\n", *sid)
	for _, m := range twiml.Messages {
		fmt.Fprintf(e.stdout, "reply: %s\n", visible(m))
	}
	if len(twiml.Messages) == 0 {
		fmt.Fprintln(e.stdout, "reply: (none)")
	}
	return nil
}

// postSigned posts form to the gateway at server+path, signed for
// publicURL+path as Twilio signs it, and returns the status and body.
func postSigned(e *env, server, publicURL, path string, token []byte, form url.Values) (int, []byte, error) {
	sig := handlers.TwilioSignature(token, strings.TrimRight(publicURL, "/")+path, form)
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, strings.TrimRight(server, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, fmt.Errorf("bad server URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("cannot reach the gateway: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, nil
}

// simulateTarget loads the config of a simulated webhook and fills in what
// was not given: the gateway's address, its public URL and the hotline
// number (the first of the config's).
func simulateTarget(path string, server, publicURL, to *string) (*config.Config, []byte, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	token := c.Twilio.AuthToken.Value()
	if len(token) == 0 {
		return nil, nil, errors.New("no Twilio auth token in the config or TWILIO_AUTH_TOKEN")
	}
	if *publicURL == "" {
		*publicURL = c.PublicURL
	}
	if *server == "" {
		*server = "http://" + c.Listen
	}
	if *to == "" {
		nums := make([]string, 0, len(c.Twilio.Numbers))
		for n := range c.Twilio.Numbers {
			nums = append(nums, n)
		}
		sort.Strings(nums)
		if len(nums) == 0 {
			return nil, nil, errors.New("--to is needed: the config lists no twilio.numbers")
		}
		*to = nums[0]
	}
	return c, token, nil
}

// simulateFlags are the flags every simulated webhook takes.
type simulateFlags struct {
	config, server, publicURL, from, to *string
	json                                *bool
}

// addSimulateFlags defines them on fs; the caller's numbers only when
// numbers is set (a recording callback names none).
func addSimulateFlags(fs *flag.FlagSet, numbers bool) simulateFlags {
	sf := simulateFlags{
		config:    fs.String("config", "", "the gateway's configuration `file` (for public_url, the auth token and the numbers)"),
		server:    fs.String("server", "", "where to send the request (default: the config's listen address)"),
		publicURL: fs.String("public-url", "", "the URL Twilio would call (default: the config's public_url)"),
		from:      new(string),
		to:        new(string),
		json:      fs.Bool("json", false, "print what the gateway answered as JSON (README, \"JSON output\")"),
	}
	if numbers {
		sf.from = fs.String("from", "+15005550100", "the sender's or caller's `number`")
		sf.to = fs.String("to", "", "the hotline `number` (default: the first in the config)")
	}
	return sf
}

// simulatedSMS is what `simulate sms --json` prints: the gateway's status
// and the replies of its TwiML.
type simulatedSMS struct {
	SID     string   `json:"sid"`
	Status  int      `json:"status"`
	Replies []string `json:"replies"`
}

// randomSID is a Twilio id of prefix's kind (SM, CA...) and 32 random hex
// digits.
func randomSID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
