package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// writes records each call of Write: what a batch of log lines cost the
// process in write(2).
type writes struct {
	mu    sync.Mutex
	calls []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

func (w *writes) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}

// messages are the msg of each JSON line in calls, in order.
func messages(t *testing.T, calls []string) []string {
	t.Helper()
	var out []string
	for _, c := range calls {
		if !strings.HasSuffix(c, "\n") {
			t.Fatalf("a write ends inside a line: %q", c)
		}
		for line := range strings.SplitSeq(strings.TrimSuffix(c, "\n"), "\n") {
			var rec struct{ Msg string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("not a whole JSON line: %q (%v)", line, err)
			}
			out = append(out, rec.Msg)
		}
	}
	return out
}

func TestLogLineAfterQuietIsWrittenAtOnce(t *testing.T) {
	w := &writes{}
	log, done := batchedLogger(w, "json", "info", time.Hour)
	defer done()
	log.Info("first")
	if got := w.get(); len(got) != 1 || !strings.Contains(got[0], `"msg":"first"`) {
		t.Fatalf("writes after one line: %q", got)
	}
}

func TestLogBurstIsOneWrite(t *testing.T) {
	w := &writes{}
	log, done := batchedLogger(w, "json", "info", time.Hour)
	log.Info("m0")
	for i := 1; i <= 100; i++ {
		log.Info(fmt.Sprintf("m%d", i))
	}
	if got := w.get(); len(got) != 1 {
		t.Fatalf("%d writes before the window ended, want the first line's alone", len(got))
	}
	done()
	got := w.get()
	if len(got) != 2 {
		t.Fatalf("%d writes, want 2 (the first line, then the 100 that followed it)", len(got))
	}
	msgs := messages(t, got)
	for i, m := range msgs {
		if m != fmt.Sprintf("m%d", i) {
			t.Fatalf("line %d is %q: lines out of order or lost (%d lines)", i, m, len(msgs))
		}
	}
	if len(msgs) != 101 {
		t.Fatalf("%d lines written, want 101", len(msgs))
	}
	// After done, nothing waits.
	log.Info("late")
	if got := w.get(); len(got) != 3 {
		t.Fatalf("a line after done was not written at once: %d writes", len(got))
	}
}

func TestLogWindowEndsWithoutAnotherLine(t *testing.T) {
	w := &writes{}
	log, done := batchedLogger(w, "json", "info", 20*time.Millisecond)
	defer done()
	log.Info("a")
	log.Info("b")
	log.Info("c")
	deadline := time.Now().Add(5 * time.Second)
	for len(w.get()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := messages(t, w.get()); strings.Join(got, " ") != "a b c" {
		t.Fatalf("after the window: %q, want a b c", got)
	}
	// Quiet again: the next line goes at once.
	time.Sleep(30 * time.Millisecond)
	n := len(w.get())
	log.Info("d")
	if len(w.get()) != n+1 {
		t.Fatal("a line after a quiet window waited")
	}
}

func TestLogWarningWritesWhatWaits(t *testing.T) {
	w := &writes{}
	log, done := batchedLogger(w, "json", "info", time.Hour)
	defer done()
	log.Info("a")
	log.Info("b")
	log.With("part", "queue").Info("c")
	log.With("part", "queue").Warn("d")
	got := w.get()
	if len(got) != 2 {
		t.Fatalf("%d writes after a warning, want 2", len(got))
	}
	if m := messages(t, got); strings.Join(m, " ") != "a b c d" {
		t.Fatalf("lines %q, want a b c d", m)
	}
	log.Error("e")
	if m := messages(t, w.get()); len(m) != 5 || m[4] != "e" {
		t.Fatalf("an error waited: %q", m)
	}
}

func TestLogBatchBoundedByBytes(t *testing.T) {
	w := &writes{}
	log, done := batchedLogger(w, "json", "info", time.Hour)
	defer done()
	log.Info("first")
	pad := strings.Repeat("x", 10<<10)
	for i := range 20 {
		log.Info(fmt.Sprintf("m%d", i), "pad", pad)
	}
	got := w.get()
	if len(got) < 3 {
		t.Fatalf("%d writes for 200 KiB of lines in one window: the batch is not bounded", len(got))
	}
	for _, c := range got {
		if len(c) > logBatch+len(pad)+200 {
			t.Fatalf("one write of %d bytes", len(c))
		}
	}
	messages(t, got) // whole lines only
	// One line larger than a batch is written whole, and its room let go.
	log.Info("huge", "pad", strings.Repeat("y", 3*logBatch))
	if m := messages(t, w.get()); m[len(m)-1] != "huge" {
		t.Fatalf("the huge line was not written at once: last %q", m[len(m)-1])
	}
}

func TestLogConcurrentLinesWhole(t *testing.T) {
	var buf bytes.Buffer
	w := &lockedBuffer{b: &buf}
	log, done := batchedLogger(w, "json", "info", 2*time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				log.Info(fmt.Sprintf("g%d-%d", g, i), "tip", "abc")
			}
		})
	}
	wg.Wait()
	done()
	msgs := messages(t, []string{buf.String()})
	if len(msgs) != 4000 {
		t.Fatalf("%d lines, want 4000", len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m] {
			t.Fatalf("line %q twice", m)
		}
		seen[m] = true
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func TestServeLoggerDropsPersonalKeys(t *testing.T) {
	w := &writes{}
	log, done := batchedLogger(w, "json", "debug", time.Hour)
	log.Info("x", "from", "+51987654321", "body", "secret text", "tip", "abc")
	log.Info("y", "ip", "203.0.113.9")
	done()
	out := strings.Join(w.get(), "")
	for _, bad := range []string{"+51987654321", "secret text", "203.0.113.9"} {
		if strings.Contains(out, bad) {
			t.Errorf("log carries %q: %s", bad, out)
		}
	}
	if !strings.Contains(out, `"tip":"abc"`) {
		t.Errorf("log lost the tip id: %s", out)
	}
}
