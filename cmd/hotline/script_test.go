package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
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
		Deadline:            time.Now().Add(2 * time.Minute),
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
			"expand":  cmdExpand,
			"waitfor": cmdWaitFor,
			"jsonvar": cmdJSONVar,
		},
	})
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
