package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// redactedKeys are attribute names that could carry personal data. They are
// dropped from every log line even if a future change logs them by mistake.
var redactedKeys = map[string]bool{
	"from": true, "to": true, "body": true, "text": true, "ip": true, "addr": true,
	"remote": true, "remote_addr": true, "phone": true, "number": true, "token": true,
	"contact": true, "location": true, "lat": true, "lon": true, "query": true, "url": true,
	"profile_name": true, "message": true,
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
