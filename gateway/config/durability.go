package config

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
)

// Defaults of the spool and the metrics, with their reasons.
const (
	// DefaultSpoolMaxBytes bounds the local spool: at a few KiB per sealed
	// tip, tens of thousands of tips, hours of a Redis outage at a busy
	// line, and still small next to any disk.
	DefaultSpoolMaxBytes = 256 << 20
	// minSpoolMaxBytes leaves room for a few hundred tips at least.
	minSpoolMaxBytes = 1 << 20
)

// Spool is where sealed tips wait while Redis does not answer.
type Spool struct {
	// Dir holds the spool's files (0600, in a 0700 directory). Unset means
	// $STATE_DIRECTORY/spool (systemd's StateDirectory, also set by the
	// container image), else $XDG_STATE_HOME/hotline/spool, else
	// ~/.local/state/hotline/spool. Relative to the config file. Each
	// gateway needs its own.
	Dir string `yaml:"dir" json:"dir"`
	// MaxBytes bounds the spool; when it is full the gateway answers with
	// an error, so Twilio uses its fallback URL.
	MaxBytes int64 `yaml:"max_bytes" json:"max_bytes"`
}

// Metrics says where Prometheus metrics are served.
type Metrics struct {
	// Listen is the address of a listener for GET /metrics alone, e.g.
	// 127.0.0.1:9090. Empty (the default) serves no metrics listener.
	Listen string `yaml:"listen" json:"listen,omitempty"`
	// OnMainListener also serves GET /metrics on the public listener. Off
	// by default: tip counts per agency tell an onlooker when tips arrive.
	OnMainListener bool `yaml:"on_main_listener" json:"on_main_listener,omitempty"`
}

// defaultSpoolDir follows systemd's StateDirectory and the XDG base
// directories; it returns "" when none is known.
func defaultSpoolDir(getenv func(string) string) string {
	if d := getenv("STATE_DIRECTORY"); d != "" {
		// systemd may pass several, separated by colons; the first is ours.
		d, _, _ = strings.Cut(d, ":")
		return filepath.Join(d, "spool")
	}
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "hotline", "spool")
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "state", "hotline", "spool")
	}
	return ""
}

func (c *Config) applyDurabilityDefaults() {
	orDefault(&c.Spool.MaxBytes, DefaultSpoolMaxBytes)
}

// SpoolDir is the spool directory: spool.dir resolved against the config
// file's directory, or the default from the environment (read here, when the
// gateway starts, and not by Parse: the environment is not part of a dump).
// It is "" when spool.dir is unset and no state directory is known.
func (c *Config) SpoolDir(getenv func(string) string) string {
	if c.Spool.Dir == "" {
		return defaultSpoolDir(getenv)
	}
	return c.Path(c.Spool.Dir)
}

func (c *Config) validateDurability(add func(string, string, string)) {
	if c.Spool.MaxBytes < minSpoolMaxBytes {
		add("spool.max_bytes", fmt.Sprintf("%d bytes is too small to hold tips through an outage", c.Spool.MaxBytes),
			fmt.Sprintf("leave it unset for the default of %d MiB, or give at least %d", DefaultSpoolMaxBytes>>20, minSpoolMaxBytes))
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			add("metrics.listen", "not a host:port address", "write it as 127.0.0.1:9090, or leave it unset for no metrics listener")
		} else if c.Metrics.Listen == c.Listen {
			add("metrics.listen", "the same address as listen", "give metrics a port of its own, or set metrics.on_main_listener: true instead")
		}
	}
}
