package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestConsolePrintsOneURL runs `hotline demo`, then `hotline console` with
// the demo's officer as printed: it prints exactly one line, the one-time
// URL, which opens the console once. Without --no-browser it hands that URL
// to the desktop's browser (on Linux a stand-in xdg-open records it).
func TestConsolePrintsOneURL(t *testing.T) {
	r := queuetest.New(t)
	if r.URL == "" {
		t.Skipf("the demo needs one Redis by URL, not a %s", r.Kind)
	}
	t.Setenv("REDIS_URL", r.URL)
	port := queuetest.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var demoOut, demoErr queuetest.SyncBuffer
	demoDone := make(chan int, 1)
	go func() {
		demoDone <- run(ctx, []string{"demo", "--listen", fmt.Sprintf("127.0.0.1:%d", port)}, nil, &demoOut, &demoErr)
	}()
	waitFor(t, 20*time.Second, "the demo", func() bool { return strings.Contains(demoOut.String(), "Press Ctrl-C") })
	next := demoCommands(demoOut.String())[1] // triage next --server --token --identity
	args := append([]string{"console", "--no-browser"}, next[2:]...)
	opened := ""
	if runtime.GOOS == "linux" {
		bin := t.TempDir()
		opened = filepath.Join(bin, "opened")
		if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+opened+".tmp && mv "+opened+".tmp "+opened+"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		args = append([]string{"console"}, next[2:]...)
	}
	var out, errOut queuetest.SyncBuffer
	consoleDone := make(chan int, 1)
	go func() { consoleDone <- run(ctx, args, nil, &out, &errOut) }()
	waitFor(t, 20*time.Second, "the console's URL", func() bool { return strings.HasSuffix(out.String(), "\n") })
	line := out.String()
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]{43}\n$`).MatchString(line) {
		t.Fatalf("console printed %q (stderr %q), want one line with the one-time URL", line, errOut.String())
	}
	if opened != "" {
		waitFor(t, 10*time.Second, "the browser opened", func() bool { b, _ := os.ReadFile(opened); return len(b) > 0 })
		if b, _ := os.ReadFile(opened); string(b) != line {
			t.Fatalf("the browser was given %q, want the one-time URL %q", b, line)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	url := strings.TrimSpace(line)
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("first use: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	cookie := resp.Cookies()[0]
	req, _ := http.NewRequest(http.MethodGet, strings.Split(url, "?")[0], nil)
	req.AddCookie(cookie)
	if resp, err = client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the queue with the cookie: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err = client.Get(url); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("second use of the URL: %v %v", resp, err)
	}
	resp.Body.Close()
	// The gateway tells the console its own deadlines (the demo's are the
	// defaults: a 15-minute reply window, paging after 2 and 10 minutes).
	flags := map[string]string{}
	for i := 2; i+1 < len(next); i++ {
		flags[next[i]] = next[i+1]
	}
	me, _ := http.NewRequest(http.MethodGet, flags["--server"]+"/api/v1/me", nil)
	me.Header.Set("Authorization", "Bearer "+flags["--token"])
	resp, err = client.Do(me)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `"page_after_s":120,"page_supervisor_after_s":600,"reply_window_s":900`; !strings.Contains(string(body), want) {
		t.Fatalf("the gateway's /me: %d %s, want %s", resp.StatusCode, body, want)
	}
	cancel()
	if code := <-consoleDone; code != 0 {
		t.Fatalf("console exited %d: %s", code, errOut.String())
	}
	<-demoDone
	if out.String() != line {
		t.Fatalf("console printed more than its one line: %q", out.String())
	}
}
