package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hotline": main,
	})
}

// TestScripts runs the CLI scenarios in testdata/script against a real
// Redis, with the gateway running as a separate process.
func TestScripts(t *testing.T) {
	r := queuetest.New(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Deadline:            scriptDeadline(t),
		Setup: func(e *testscript.Env) error {
			e.Setenv("REDIS_URL", r.URL)
			e.Setenv("PREFIX", fmt.Sprintf("%s-%d", r.Prefix, time.Now().UnixNano()%1e6))
			e.Setenv("PORT", strconv.Itoa(queuetest.FreePort(t)))
			e.Setenv("HOTLINE_PEPPER", "pepper-for-the-cli-scenario-0123456789")
			e.Setenv("TWILIO_AUTH_TOKEN", "cli-scenario-auth-token")
			// Each scenario's gateway keeps its spool in its own work directory.
			e.Setenv("STATE_DIRECTORY", e.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"expand":     cmdExpand,
			"waitfor":    cmdWaitFor,
			"jsonvar":    cmdJSONVar,
			"faketwilio": cmdFakeTwilio,
		},
	})
}

// scriptDeadline is when the scenarios' commands are stopped: a minute (at
// most a tenth of the time left) before the test binary's own timeout, so
// that a command that hangs fails its scenario with its output rather than
// the whole binary. It was two minutes from the start, which the help
// scenario (hundreds of commands under -race) overran on a machine busy
// with other suites.
func scriptDeadline(t *testing.T) time.Time {
	if d, ok := t.Deadline(); ok {
		return d.Add(-min(time.Minute, time.Until(d)/10))
	}
	return time.Now().Add(10 * time.Minute)
}

// expand SRC DST writes SRC with $VARS replaced from the script's
// environment.
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	out := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o600))
}

// waitfor URL waits until URL answers 200, for a server started in the
// background.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitfor URL")
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(args[0])
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("%s did not answer 200 within 20s", args[0])
}

// jsonvar FIELD VAR sets VAR to a top-level string field of the last
// command's JSON stdout.
func cmdJSONVar(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jsonvar FIELD VAR")
	}
	var v map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile("stdout")), &v))
	s, ok := v[args[0]].(string)
	if !ok {
		ts.Fatalf("stdout has no string field %q", args[0])
	}
	ts.Setenv(args[1], s)
}

// faketwilio FILE serves, until the script ends, a fake of Twilio's REST API
// for the voice channel at $TWILIO_API: every recording of account
// AC00000000000000000000000000000000 is FILE (as MP3), with the account's
// credentials only; deletes of recordings and calls are logged to the
// file twilio.log in the work directory, one "DELETE SID" a line.
func cmdFakeTwilio(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: faketwilio FILE")
	}
	audio := []byte(ts.ReadFile(args[0]))
	token := ts.Getenv("TWILIO_AUTH_TOKEN")
	logPath := ts.MkAbs("twilio.log")
	var mu sync.Mutex
	note := func(line string) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
	const base = "/2010-04-01/Accounts/AC00000000000000000000000000000000"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/Recordings/{re}", func(w http.ResponseWriter, r *http.Request) {
		note("GET " + r.PathValue("re"))
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(audio)
	})
	mux.HandleFunc("GET "+base+"/Calls/{ca}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"sid": %q, "status": "completed"}`, strings.TrimSuffix(r.PathValue("ca"), ".json"))
	})
	del := func(w http.ResponseWriter, r *http.Request) {
		note("DELETE " + strings.TrimSuffix(r.PathValue("sid"), ".json"))
		w.WriteHeader(http.StatusNoContent)
	}
	mux.HandleFunc("DELETE "+base+"/Recordings/{sid}", del)
	mux.HandleFunc("DELETE "+base+"/Calls/{sid}", del)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "AC00000000000000000000000000000000" || p != token {
			note("UNAUTHORIZED " + r.URL.Path)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	ts.Defer(srv.Close)
	ts.Setenv("TWILIO_API", srv.URL)
}
