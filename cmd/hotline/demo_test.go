package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue/queuetest"
)

// lockedBuffer is a goroutine-safe writer.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoPrintsCommandsThatWork runs `hotline demo`, then runs the
// commands it prints, exactly as printed: the tip goes through.
func TestDemoPrintsCommandsThatWork(t *testing.T) {
	r := queuetest.New(t) // a Redis for the demo, or a CI failure
	t.Setenv("REDIS_URL", r.URL)
	port := queuetest.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", fmt.Sprintf("127.0.0.1:%d", port)}, nil, &stdout, &stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "Press Ctrl-C") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("demo did not start:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	commands := demoCommands(stdout.String())
	if len(commands) != 3 {
		t.Fatalf("demo printed %d commands, want 3:\n%s", len(commands), stdout.String())
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), commands[0], nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "reply: Recibido. Ref.") {
		t.Fatalf("simulate as printed: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), commands[1], nil, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "Nos tienen encerrados") || !strings.Contains(out.String(), "agency pe-lima") {
		t.Fatalf("triage next as printed: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	id := regexp.MustCompile(`tip ([a-z2-7]{26})`).FindStringSubmatch(out.String())
	if id == nil {
		t.Fatalf("no tip id in %s", out.String())
	}
	ack := commands[2]
	for i, a := range ack {
		if a == "TIP-ID" {
			ack[i] = id[1]
		}
	}
	out.Reset()
	if code := run(context.Background(), ack, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "closed") {
		t.Fatalf("triage ack as printed: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exited %d: %s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "987654321") || strings.Contains(stderr.String(), "encerrados") {
		t.Fatalf("the demo's logs carry the tip in clear:\n%s", stderr.String())
	}
}

// demoCommands extracts the hotline commands the demo printed, split into
// arguments the way a shell would (double quotes, backslash-newline).
func demoCommands(s string) [][]string {
	s = strings.ReplaceAll(s, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		for _, prefix := range []string{"go run ./cmd/hotline ", selfCommand() + " "} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				out = append(out, shellWords(rest))
				break
			}
		}
	}
	return out
}

func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, has := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, has = !inQuote, true
		case r == ' ' && !inQuote:
			if has {
				words = append(words, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(r)
			has = true
		}
	}
	if has {
		words = append(words, cur.String())
	}
	return words
}
