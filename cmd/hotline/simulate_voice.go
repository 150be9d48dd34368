package main

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// simulateCall rings the gateway's voice webhook as Twilio would: the
// incoming call, then the keypad choice, and prints what the caller would
// hear and where the recording would be reported.
func simulateCall(e *env, args []string) (err error) {
	fs := e.newFlags("simulate call", "simulate call --config FILE [--from NUMBER] [--to NUMBER] [--sid CA...] [--digits 9]")
	sf := addSimulateFlags(fs, true)
	cfgPath, server, publicURL, from, to := sf.config, sf.server, sf.publicURL, sf.from, sf.to
	sid := fs.String("sid", "", "the CallSid (default: random)")
	digits := fs.String("digits", "", "the key pressed at the choice (9: someone is in danger now)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fs.Usage()
		return errUsage
	}
	c, token, err := simulateTarget(*cfgPath, server, publicURL, to)
	if err != nil {
		return err
	}
	if *sid == "" {
		*sid = randomSID("CA")
	}
	form := url.Values{
		"CallSid": {*sid}, "AccountSid": {c.Twilio.AccountSID}, "From": {*from}, "To": {*to}, "Caller": {*from}, "Called": {*to},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"},
	}
	path := "/twilio/voice"
	answer := simulatedCall{SID: *sid, Steps: []callStep{}}
	defer func() {
		if *sf.json && err == nil {
			err = writeJSON(e.stdout, answer, false)
		}
	}()
	for step := 0; step < 3; step++ {
		status, data, err := postSigned(e, *server, *publicURL, path, token, form)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("gateway answered %d to %s: %s", status, path, strings.TrimSpace(string(data)))
		}
		var doc struct {
			Say    []string `xml:"Say"`
			Gather *struct {
				Action string   `xml:"action,attr"`
				Say    []string `xml:"Say"`
			} `xml:"Gather"`
			Record *struct {
				MaxLength string `xml:"maxLength,attr"`
				Callback  string `xml:"recordingStatusCallback,attr"`
			} `xml:"Record"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("gateway answered 200 but not with TwiML: %w", err)
		}
		said := []string{}
		if doc.Gather != nil {
			said = append(said, doc.Gather.Say...)
		}
		said = append(said, doc.Say...)
		answer.Steps = append(answer.Steps, callStep{Path: path, Status: status, Say: said})
		if !*sf.json {
			fmt.Fprintf(e.stdout, "%s %s: 200 OK\n", visible(*sid), path)
			for _, s := range said {
				fmt.Fprintf(e.stdout, "say: %s\n", visible(s))
			}
		}
		switch {
		case doc.Record != nil:
			answer.Record = &callRecord{MaxLength: doc.Record.MaxLength, Callback: doc.Record.Callback}
			if !*sf.json {
				fmt.Fprintf(e.stdout, "record: at most %ss, reported to %s\n", visible(doc.Record.MaxLength), visible(doc.Record.Callback))
			}
			return nil
		case doc.Gather != nil:
			u, err := url.Parse(doc.Gather.Action)
			if err != nil {
				return fmt.Errorf("gateway's TwiML names a bad action URL: %w", err)
			}
			path = u.RequestURI()
			if *digits != "" {
				form.Set("Digits", *digits)
			}
		default:
			return nil
		}
	}
	return nil
}

// simulatedCall is what `simulate call --json` prints: each webhook rung,
// what the caller heard, and the recording asked for, if any.
type simulatedCall struct {
	SID    string      `json:"sid"`
	Steps  []callStep  `json:"steps"`
	Record *callRecord `json:"record,omitempty"`
}

type callStep struct {
	Path   string   `json:"path"`
	Status int      `json:"status"`
	Say    []string `json:"say"`
}

type callRecord struct {
	MaxLength string `json:"max_length_s"`
	Callback  string `json:"callback"`
}

// simulatedRecording is what `simulate recording --json` prints.
type simulatedRecording struct {
	SID    string `json:"sid"`
	Status int    `json:"status"`
}

// simulateRecording posts a recording status callback as Twilio would at
// the end of a recorded call.
func simulateRecording(e *env, args []string) error {
	fs := e.newFlags("simulate recording", "simulate recording --config FILE --call CA... --url RECORDING_URL [--sid RE...] [--duration S] [--urgent]")
	sf := addSimulateFlags(fs, false)
	cfgPath, server, publicURL := sf.config, sf.server, sf.publicURL
	call := fs.String("call", "", "the CallSid of the call (from simulate call)")
	sid := fs.String("sid", "", "the RecordingSid (default: the last part of --url)")
	recURL := fs.String("url", "", "the RecordingUrl")
	duration := fs.Int("duration", 10, "the recording's length in `seconds`")
	urgent := fs.Bool("urgent", false, "as if 9 was pressed (the callback URL says so)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" || *call == "" || *recURL == "" {
		fs.Usage()
		return errUsage
	}
	*sf.to = "-" // a recording callback names no number
	c, token, err := simulateTarget(*cfgPath, server, publicURL, sf.to)
	if err != nil {
		return err
	}
	if *sid == "" {
		*sid = (*recURL)[strings.LastIndex(*recURL, "/")+1:]
	}
	form := url.Values{
		"CallSid": {*call}, "AccountSid": {c.Twilio.AccountSID}, "RecordingSid": {*sid}, "RecordingUrl": {*recURL},
		"RecordingDuration": {strconv.Itoa(*duration)}, "RecordingStatus": {"completed"}, "RecordingChannels": {"1"},
		"RecordingSource": {"RecordVerb"},
	}
	path := "/twilio/voice/recording"
	if *urgent {
		path += "?urgent=1"
	}
	status, data, err := postSigned(e, *server, *publicURL, path, token, form)
	if err != nil {
		return err
	}
	if status != http.StatusNoContent && status != http.StatusOK {
		return fmt.Errorf("gateway answered %d: %s", status, strings.TrimSpace(string(data)))
	}
	if *sf.json {
		return writeJSON(e.stdout, simulatedRecording{SID: *sid, Status: status}, false)
	}
	fmt.Fprintf(e.stdout, "recording %s: %d\n", visible(*sid), status)
	return nil
}
