package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// redactedKeys are attribute names that could carry personal data. They are
// dropped from every log line even if a future change logs them by mistake.
var redactedKeys = map[string]bool{
	"from": true, "to": true, "body": true, "text": true, "ip": true, "addr": true,
	"remote": true, "remote_addr": true, "phone": true, "number": true, "token": true,
	"contact": true, "location": true, "lat": true, "lon": true, "query": true, "url": true,
	"profile_name": true, "message": true,
}

// newServeLogger is newLogger for a running gateway: lines that follow one
// another within logWindow are written together (see logWriter). done
// writes what waits, and every line after it at once: call it before the
// process ends.
func newServeLogger(w io.Writer, format, level string) (log *slog.Logger, done func()) {
	return batchedLogger(w, format, level, logWindow)
}

func batchedLogger(w io.Writer, format, level string, window time.Duration) (*slog.Logger, func()) {
	lw := newLogWriter(w, window)
	log := newLogger(lw, format, level)
	return slog.New(flushAtWarn{log.Handler(), lw}), lw.Close
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{
		Level: lv,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if redactedKeys[strings.ToLower(a.Key)] {
				return slog.Attr{}
			}
			return a
		},
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// redisLogger routes go-redis's own messages through slog.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

// logWindow is how long a log line may wait for the next ones, and
// logBatch how many bytes may wait.
const (
	logWindow = 50 * time.Millisecond
	logBatch  = 64 << 10
)

// logWriter writes log lines in batches. A line that comes after a quiet
// spell is written at once; the lines that follow it within the window wait
// for its end (or for logBatch bytes) and are written in one write(2).
// Measured with hotline-load, a flood's two lines per request cost the
// gateway about a seventh of its CPU when each was written alone.
//
// What a crash loses is at most one window of lines below Warn: flushAtWarn
// writes a warning or an error at once, with the lines before it.
type logWriter struct {
	w      io.Writer
	window time.Duration
	timer  *time.Timer

	mu      sync.Mutex
	buf     []byte
	pending bool      // the timer will write buf
	last    time.Time // when lines were last written
	closed  bool      // every line is written at once
}

func newLogWriter(w io.Writer, window time.Duration) *logWriter {
	l := &logWriter{w: w, window: window}
	l.timer = time.AfterFunc(time.Hour, l.Flush)
	l.timer.Stop()
	return l
}

// Write takes one line (slog writes each record whole, in one call).
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.closed || !l.pending && now.Sub(l.last) >= l.window {
		l.last = now
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) >= logBatch {
		l.flushLocked(now)
		return len(p), nil
	}
	if !l.pending {
		l.pending = true
		l.timer.Reset(l.window)
	}
	return len(p), nil
}

// Flush writes the lines that wait.
func (l *logWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked(time.Now())
}

// Close writes the lines that wait, and every line after them at once.
func (l *logWriter) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked(time.Now())
	l.closed = true
}

func (l *logWriter) flushLocked(now time.Time) {
	if l.pending {
		l.timer.Stop()
		l.pending = false
	}
	if len(l.buf) == 0 {
		return
	}
	// A log that cannot be written has nowhere to say so.
	_, _ = l.w.Write(l.buf)
	l.last = now
	if cap(l.buf) > logBatch {
		l.buf = nil // one huge line: do not keep its room
	} else {
		l.buf = l.buf[:0]
	}
}

// flushAtWarn writes a line at Warn or above at once, with those waiting.
type flushAtWarn struct {
	slog.Handler
	w *logWriter
}

func (h flushAtWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.w.Flush()
	}
	return err
}

func (h flushAtWarn) WithAttrs(as []slog.Attr) slog.Handler {
	return flushAtWarn{h.Handler.WithAttrs(as), h.w}
}

func (h flushAtWarn) WithGroup(name string) slog.Handler {
	return flushAtWarn{h.Handler.WithGroup(name), h.w}
}
